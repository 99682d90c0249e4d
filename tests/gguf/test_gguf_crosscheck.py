"""Our parser against the ``gguf`` package's reader, field by field, on files its writer made."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gguf import GGUFReader, GGUFValueType

from lexitui.gguf import GgufArray, GgufHeader, read_local_header

KEPT = 64  # the default limit below which arrays keep their values


def _reader_value(field: Any) -> Any:
    if field.types[0] == GGUFValueType.ARRAY:
        return field.contents() if len(field.data) <= KEPT else ("array", len(field.data))
    return field.contents()


def _our_value(value: Any) -> Any:
    if isinstance(value, GgufArray):
        return list(value.values) if value.values is not None else ("array", value.length)
    return value


def assert_matches_reader(header: GgufHeader, path: Path) -> None:
    reader = GGUFReader(path)
    fields = {k: f for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    assert list(header.metadata) == list(fields)
    for key, field in fields.items():
        ours, theirs = _our_value(header.metadata[key]), _reader_value(field)
        if isinstance(theirs, float):
            assert ours == pytest.approx(theirs), key
        else:
            assert ours == theirs, key
        value = header.metadata[key]
        if isinstance(value, GgufArray):
            assert value.item_type == field.types[-1], key
    assert header.alignment == reader.alignment
    assert header.data_offset == reader.data_offset
    assert len(header.tensors) == len(reader.tensors)
    for ours, theirs in zip(header.tensors, reader.tensors, strict=True):
        assert ours.name == theirs.name
        assert ours.dims == tuple(int(d) for d in theirs.shape)
        assert ours.ggml_type == theirs.tensor_type
        assert ours.type_name == theirs.tensor_type.name
        assert header.data_offset + ours.offset == theirs.data_offset
        assert ours.n_elements == theirs.n_elements
        assert ours.n_bytes == theirs.n_bytes


def test_writer_files_match_the_reader(writer_files: list[Path]) -> None:
    for path in writer_files:
        header = read_local_header(path)
        assert header.version == 3
        assert header.file_size == path.stat().st_size
        assert_matches_reader(header, path)


def test_custom_alignment_is_used_for_the_data_offset(aligned_file: Path) -> None:
    header = read_local_header(aligned_file)
    assert header.alignment == 256
    assert header.data_offset % 256 == 0
    assert header.data_offset >= header.header_bytes > header.data_offset - 256
    assert all(t.offset % 256 == 0 for t in header.tensors)


def test_starter_model_matches_the_reader(starter_path: Path) -> None:
    header = read_local_header(starter_path)
    assert_matches_reader(header, starter_path)
    assert header.architecture == "llama"
    assert header.block_count == 30
    assert header.head_count == 9
    assert header.head_count_kv == 3
    assert header.embedding_length == 576
    assert header.key_length == header.value_length == 64
    assert header.context_length == 8192
    assert header.vocab_size == 49152
    assert (header.file_type, header.file_type_name) == (3, "Q4_1")
    assert len(header.tensors) == 272
    assert header.parameter_count == 134_515_008
    assert header.data_offset + header.tensor_bytes <= starter_path.stat().st_size
    assert sorted(header.layer_tensor_bytes()) == list(range(30))
    assert sum(header.layer_tensor_bytes().values()) + header.non_layer_tensor_bytes == (
        header.tensor_bytes
    )
    assert sum(header.bytes_by_type().values()) == header.tensor_bytes

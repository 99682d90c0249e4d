"""What GgufHeader derives from metadata and tensors: heads, lengths, sizes, JSON."""

from __future__ import annotations

import json
from pathlib import Path

from gguf import GGMLQuantizationType as Q

from lexitui.gguf import GgufArray, GgufHeader, read_local_header
from lexitui.gguf.records import GgufTensor


def _header(metadata: dict[str, object], tensors: tuple[GgufTensor, ...] = ()) -> GgufHeader:
    return GgufHeader(3, 32, metadata, tensors, 64, 60, 1000)  # type: ignore[arg-type]


def _tensor(name: str, n_bytes: int, type_name: str = "F32") -> GgufTensor:
    return GgufTensor(name, (n_bytes // 4,), int(Q[type_name]), type_name, 0, n_bytes // 4, n_bytes)


def test_llama_properties(llama_file: Path) -> None:
    header = read_local_header(llama_file)
    assert header.architecture == "llama"
    assert header.name == "tiny llama"
    assert (header.block_count, header.context_length, header.embedding_length) == (2, 4096, 64)
    assert (header.head_count, header.head_count_kv) == (8, 2)
    assert header.key_length == header.value_length == 8  # 64 / 8, no explicit key
    assert (header.file_type, header.file_type_name) == (15, "Q4_K_M")
    assert header.vocab_size == 100
    assert header.expert_count is None
    assert header.parameter_count == 100 * 64 + 2 * (64 + 64 * 64) + 64
    assert header.bytes_by_type() == {"F16": 12800, "F32": 3 * 256, "Q4_0": 2 * 64 * 36}
    assert header.layer_tensor_bytes() == {0: 256 + 2304, 1: 256 + 2304}
    assert header.non_layer_tensor_bytes == 12800 + 256


def test_headers_compare_and_hash(llama_file: Path) -> None:
    first, second = read_local_header(llama_file), read_local_header(llama_file)
    assert first == second and hash(first) == hash(second)
    assert len({first, second}) == 1


def test_moe_properties(moe_file: Path) -> None:
    header = read_local_header(moe_file)
    assert header.architecture == "qwen2moe"
    assert header.expert_count == 4
    assert (header.key_length, header.value_length) == (16, 8)  # explicit keys win
    assert header.head_count_kv == 4  # absent: same as head_count
    assert header.tensors[0].dims == (32, 16, 4)
    assert header.tensors[2].dims == (2, 2, 2, 2)
    assert header.file_type is None and header.file_type_name is None


def test_per_layer_kv_heads_take_the_largest(per_layer_file: Path) -> None:
    header = read_local_header(per_layer_file)
    kv = header.metadata["openelm.attention.head_count_kv"]
    assert isinstance(kv, GgufArray) and kv.values == (1, 3, 2)
    assert header.head_count_kv == 3


def test_wrongly_typed_metadata_reads_as_unknown() -> None:
    header = _header(
        {
            "general.architecture": "llama",
            "llama.block_count": "thirty",
            "llama.context_length": True,
            "general.file_type": 9999,
        }
    )
    assert header.block_count is None
    assert header.context_length is None
    assert header.key_length is None
    assert header.file_type_name == "unknown (9999)"
    assert _header({}).architecture is None and _header({}).block_count is None


def test_vocab_size_falls_back_to_the_arch_key() -> None:
    assert _header({"general.architecture": "gemma", "gemma.vocab_size": 256}).vocab_size == 256


def test_layer_bytes_group_by_block_index() -> None:
    tensors = (
        _tensor("token_embd.weight", 400),
        _tensor("blk.0.attn_q.weight", 40),
        _tensor("blk.0.attn_k.weight", 8),
        _tensor("blk.12.ffn_up.weight", 16),
        _tensor("blkx.3.odd", 4),
        _tensor("output.weight", 400, "Q8_0"),
    )
    header = _header({}, tensors)
    assert header.layer_tensor_bytes() == {0: 48, 12: 16}
    assert header.non_layer_tensor_bytes == 804
    assert header.tensor_bytes == 868
    assert header.bytes_by_type() == {"F32": 468, "Q8_0": 400}


def test_to_json_is_plain_json(llama_file: Path) -> None:
    header = read_local_header(llama_file)
    data = json.loads(json.dumps(header.to_json()))
    assert data["architecture"] == "llama"
    assert data["tensor_count"] == len(header.tensors) == len(data["tensors"])
    assert data["metadata"]["tokenizer.ggml.tokens"] == {"array_of": "STRING", "length": 100}
    assert data["metadata"]["llama.some_small_list"]["values"] == [1, 2, 3]
    template = data["metadata"]["tokenizer.chat_template"]
    assert len(template) == 201 and template.endswith("…")
    assert data["tensors"][0] == {
        "name": "token_embd.weight",
        "type": "F16",
        "dims": [64, 100],
        "offset": 0,
        "n_bytes": 12800,
    }


def test_to_json_writes_non_finite_floats_as_strings() -> None:
    header = _header({"a": float("nan"), "b": float("inf")})
    assert header.to_json()["metadata"] == {"a": "nan", "b": "inf"}

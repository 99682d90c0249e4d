"""Local files: the header is read in a few blocks, and every failure names the path."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from lexitui.gguf import GgufError, read_local_header
from lexitui.gguf import local as local_module
from tests.gguf.craft import STRING, Crafted, kv, tensor_info

MIB = 1024 * 1024


@pytest.fixture
def read_log(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    reads: list[tuple[int, int]] = []
    original = local_module.FileSource.read

    def logged(self: local_module.FileSource, offset: int, size: int) -> bytes:
        reads.append((offset, size))
        return original(self, offset, size)

    monkeypatch.setattr(local_module.FileSource, "read", logged)
    return reads


def test_a_big_file_costs_one_small_read(tmp_path: Path, read_log: list[tuple[int, int]]) -> None:
    head = bytes(Crafted([kv("general.architecture", STRING, "llama")], [tensor_info("w", (MIB,))]))
    path = tmp_path / "big.gguf"
    with path.open("wb") as file:
        file.write(head)
        file.truncate(len(head) + 4 * MIB)  # sparse tensor data, never read
    header = read_local_header(path)
    assert header.tensor_bytes == 4 * MIB
    assert read_log == [(0, MIB)]


def test_the_starter_header_takes_a_few_reads(
    starter_path: Path, read_log: list[tuple[int, int]]
) -> None:
    header = read_local_header(starter_path)
    assert len(read_log) <= 3
    assert sum(size for _, size in read_log) < header.header_bytes + 8 * MIB
    assert all(b[0] >= a[0] + a[1] for a, b in itertools.pairwise(read_log))


def test_a_missing_file_is_a_gguf_error_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(GgufError, match=f"cannot read {missing}: No such file"):
        read_local_header(missing)


def test_a_directory_is_a_gguf_error(tmp_path: Path) -> None:
    with pytest.raises(GgufError, match=f"cannot read {tmp_path}|{tmp_path}: not a regular"):
        read_local_header(tmp_path)


def test_parse_errors_name_the_path(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, not a model")
    with pytest.raises(GgufError, match=f"^{path}: not a GGUF file \\(bad magic\\)$"):
        read_local_header(path)


def test_truncated_tensor_data_is_reported_with_sizes(tmp_path: Path, llama_file: Path) -> None:
    data = llama_file.read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(data[: len(data) - 100])
    expected = f"file is truncated: tensors need {len(data)} bytes, file has {len(data) - 100}"
    with pytest.raises(GgufError, match=expected):
        read_local_header(cut)

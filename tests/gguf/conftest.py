"""GGUF files written by the ``gguf`` package's own writer, to cross-check against its reader."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from gguf import GGMLQuantizationType, GGUFWriter

WriterFile = Callable[..., Path]


def _write(path: Path, arch: str, fill: Callable[[GGUFWriter], None], alignment: int = 0) -> Path:
    writer = GGUFWriter(path, arch)
    if alignment:
        writer.add_custom_alignment(alignment)
    fill(writer)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _llama(writer: GGUFWriter) -> None:
    writer.add_name("tiny llama")
    writer.add_block_count(2)
    writer.add_context_length(4096)
    writer.add_embedding_length(64)
    writer.add_head_count(8)
    writer.add_head_count_kv(2)
    writer.add_file_type(15)
    writer.add_token_list([f"tok{i}" for i in range(100)])
    writer.add_token_scores([float(i) for i in range(100)])
    writer.add_array("llama.some_small_list", [1, 2, 3])
    writer.add_bool("tokenizer.ggml.add_bos_token", True)
    writer.add_float32("llama.rope.freq_base", 500000.0)
    writer.add_int64("general.some_int64", -5)
    writer.add_string("tokenizer.chat_template", "{{ messages }}\n" * 40)
    writer.add_tensor("token_embd.weight", np.ones((100, 64), dtype=np.float16))
    for layer in range(2):
        writer.add_tensor(f"blk.{layer}.attn_norm.weight", np.ones(64, dtype=np.float32))
        quant = np.zeros((64, 2 * 18), dtype=np.uint8)  # 64 rows of 64 Q4_0 elements
        writer.add_tensor(f"blk.{layer}.attn_q.weight", quant, raw_dtype=GGMLQuantizationType.Q4_0)
    writer.add_tensor("output_norm.weight", np.ones(64, dtype=np.float32))


def _moe(writer: GGUFWriter) -> None:
    writer.add_name("tiny moe")
    writer.add_block_count(1)
    writer.add_embedding_length(32)
    writer.add_head_count(4)
    writer.add_expert_count(4)
    writer.add_expert_used_count(2)
    writer.add_key_length(16)
    writer.add_value_length(8)
    writer.add_tensor("blk.0.ffn_gate_exps.weight", np.ones((4, 16, 32), dtype=np.float16))
    writer.add_tensor("blk.0.ffn_up_exps.weight", np.ones((4, 16, 32), dtype=np.float16))
    writer.add_tensor("blk.0.mask", np.ones((2, 2, 2, 2), dtype=np.int32))


def _per_layer_heads(writer: GGUFWriter) -> None:
    writer.add_block_count(3)
    writer.add_embedding_length(48)
    writer.add_head_count(6)
    writer.add_array("openelm.attention.head_count_kv", [1, 3, 2])
    for layer in range(3):  # one tensor per declared block, or the header is refused
        writer.add_tensor(f"blk.{layer}.x", np.ones(8, dtype=np.float32))


@pytest.fixture
def llama_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "llama.gguf", "llama", _llama)


@pytest.fixture
def aligned_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "aligned.gguf", "llama", _llama, alignment=256)


@pytest.fixture
def moe_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "moe.gguf", "qwen2moe", _moe)


@pytest.fixture
def per_layer_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "openelm.gguf", "openelm", _per_layer_heads)


@pytest.fixture
def writer_files(
    llama_file: Path, aligned_file: Path, moe_file: Path, per_layer_file: Path
) -> list[Path]:
    return [llama_file, aligned_file, moe_file, per_layer_file]

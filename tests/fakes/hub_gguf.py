"""Small real GGUF files for the fake Hub, written with ``gguf.GGUFWriter`` once per session."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import gguf
import numpy as np
from gguf import quants

_FILE_TYPES = {
    gguf.GGMLQuantizationType.F32: gguf.LlamaFileType.ALL_F32,
    gguf.GGMLQuantizationType.F16: gguf.LlamaFileType.MOSTLY_F16,
    gguf.GGMLQuantizationType.Q8_0: gguf.LlamaFileType.MOSTLY_Q8_0,
}


@functools.cache
def tiny_gguf(
    name: str,
    tensor_type: gguf.GGMLQuantizationType,
    *,
    context_length: int = 2048,
    split: tuple[int, int] | None = None,
) -> bytes:
    """A few-KB llama GGUF whose embedding tensor really is ``tensor_type`` (Q8_0, F16 or F32).

    ``split=(index, count)`` adds the keys ``gguf-split`` writes (``split.no`` counts from 0).
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.gguf"
        writer = gguf.GGUFWriter(str(path), "llama")
        writer.add_name(name)
        writer.add_size_label("1K")
        writer.add_file_type(_FILE_TYPES[tensor_type])
        writer.add_context_length(context_length)
        writer.add_block_count(2)
        writer.add_embedding_length(64)
        writer.add_head_count(4)
        if split is not None:
            writer.add_uint16("split.no", split[0] - 1)
            writer.add_uint16("split.count", split[1])
            writer.add_int32("split.tensors.count", 2 * split[1])
        seed = sum(name.encode()) + 31 * (split[0] if split else 0)
        weight, norm = _tensor_names(split[0] if split else 1)
        matrix = np.random.default_rng(seed).standard_normal((16, 64), dtype=np.float32)
        if tensor_type == gguf.GGMLQuantizationType.F16:
            writer.add_tensor(weight, matrix.astype(np.float16))
        elif tensor_type == gguf.GGMLQuantizationType.F32:
            writer.add_tensor(weight, matrix)
        else:
            writer.add_tensor(weight, quants.quantize(matrix, tensor_type), raw_dtype=tensor_type)
        writer.add_tensor(norm, np.ones((64,), dtype=np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        return path.read_bytes()


def _tensor_names(shard: int) -> tuple[str, str]:
    """Each shard of a split set holds different tensors, as gguf-split writes them."""
    if shard == 1:
        return "token_embd.weight", "output_norm.weight"
    return f"blk.{shard - 2}.attn_q.weight", f"blk.{shard - 2}.attn_norm.weight"

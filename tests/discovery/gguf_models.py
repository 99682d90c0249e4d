"""Loadable GGUF models of any llama shape, for estimator tests and the estimate bench.

The real engine only needs well-formed tensors to load and run a model, so these files carry the
starter model's tokenizer (every ``tokenizer.*`` key, copied as is) and random llama-architecture
weights at the shape and storage types asked for. Text they generate is noise; the memory llama.cpp
allocates for them is the same as for a trained model of that shape, which is what the memory
estimate is checked against.

``extra_vocab`` appends plain tokens to the vocabulary (no merges lead to them) so the output
and embedding matrices, the logits and the tokenizer grow like those of a larger-vocabulary model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gguf
import numpy as np
from gguf import GGMLQuantizationType as GgmlType

F32, F16, Q8_0, Q4_0 = GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0
# general.file_type values (llama_ftype) for the weight types these models use.
_FILE_TYPE = {F32: 0, F16: 1, Q4_0: 2, Q8_0: 7}


@dataclass(frozen=True)
class LlamaShape:
    """The hyperparameters of a generated llama model (head size = n_embd / n_head)."""

    n_layers: int
    n_embd: int
    n_head: int
    n_head_kv: int
    n_ff: int
    context_length: int = 8192
    weight_type: GgmlType = F16  # the large matrices in each layer
    embedding_type: GgmlType = Q8_0  # token_embd (and output.weight when untied)
    tied_output: bool = True  # no output.weight: the embedding matrix is reused, like the starter
    extra_vocab: int = 0
    name: str = "generated"

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head


def _tokenizer_fields(reader: Any) -> list[tuple[str, Any, Any, Any]]:
    """(key, value, type, array item type) of every tokenizer key of a GGUF file."""
    fields = []
    for key, field in reader.fields.items():
        if not key.startswith("tokenizer."):
            continue
        vtype = field.types[0]
        sub = field.types[1] if vtype == gguf.GGUFValueType.ARRAY else None
        fields.append((key, field.contents(), vtype, sub))
    return fields


def _with_extra_tokens(key: str, value: Any, extra: int) -> Any:
    if extra and key == "tokenizer.ggml.tokens":
        return [*value, *(f"<extra_token_{i}>" for i in range(extra))]
    if extra and key == "tokenizer.ggml.token_type":
        return [*value, *([1] * extra)]  # 1 = normal token
    return value


def _add_matrix(
    writer: Any, name: str, rng: np.random.Generator, rows: int, cols: int, kind: GgmlType
) -> None:
    """A [rows, cols] weight (numpy order; ggml sees ne = [cols, rows]) stored as ``kind``."""
    if kind in _SCALED_BLOCKS:
        writer.add_tensor(name, _random_blocks(rng, rows, cols, kind), raw_dtype=kind)
        return
    data = rng.standard_normal((rows, cols), dtype=np.float32) * np.float32(0.02)
    if kind == F32:
        writer.add_tensor(name, data)
    elif kind == F16:
        writer.add_tensor(name, data.astype(np.float16))
    else:
        writer.add_tensor(name, gguf.quants.quantize(data, kind), raw_dtype=kind)


# Q8_0 and Q4_0 blocks start with their f16 scale: random quants under a small fixed scale are
# valid weights, written at memory speed instead of quantizing floats (~100x faster).
_SCALED_BLOCKS = (Q8_0, Q4_0)
_BLOCK_SCALE = np.frombuffer(np.float16(0.002).tobytes(), dtype=np.uint8)


def _random_blocks(rng: np.random.Generator, rows: int, cols: int, kind: GgmlType) -> np.ndarray:
    per_block, block_bytes = gguf.GGML_QUANT_SIZES[kind]
    blocks = rng.integers(0, 256, size=(rows, cols // per_block, block_bytes), dtype=np.uint8)
    blocks[:, :, :2] = _BLOCK_SCALE
    return blocks.reshape(rows, -1)


def write_llama_model(path: Path, shape: LlamaShape, tokenizer_from: Path, seed: int = 0) -> Path:
    """Write a llama-architecture GGUF at ``path`` with the tokenizer of ``tokenizer_from``."""
    if shape.n_embd % shape.n_head or shape.n_head % shape.n_head_kv:
        raise ValueError("n_embd must divide into n_head heads, and n_head into n_head_kv groups")
    reader = gguf.GGUFReader(str(tokenizer_from))
    tokenizer = _tokenizer_fields(reader)
    n_vocab = len(reader.fields["tokenizer.ggml.tokens"].data) + shape.extra_vocab
    rng = np.random.default_rng(seed)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name(shape.name)
    writer.add_block_count(shape.n_layers)
    writer.add_context_length(shape.context_length)
    writer.add_embedding_length(shape.n_embd)
    writer.add_feed_forward_length(shape.n_ff)
    writer.add_head_count(shape.n_head)
    writer.add_head_count_kv(shape.n_head_kv)
    writer.add_rope_dimension_count(shape.head_dim)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(_FILE_TYPE.get(shape.weight_type, 1))
    for key, value, vtype, sub in tokenizer:
        writer.add_key_value(key, _with_extra_tokens(key, value, shape.extra_vocab), vtype, sub)

    e, kv = shape.n_embd, shape.n_head_kv * shape.head_dim
    _add_matrix(writer, "token_embd.weight", rng, n_vocab, e, shape.embedding_type)
    writer.add_tensor("output_norm.weight", np.ones(e, dtype=np.float32))
    if not shape.tied_output:
        _add_matrix(writer, "output.weight", rng, n_vocab, e, shape.embedding_type)
    w = shape.weight_type
    for i in range(shape.n_layers):
        blk = f"blk.{i}"
        writer.add_tensor(f"{blk}.attn_norm.weight", np.ones(e, dtype=np.float32))
        _add_matrix(writer, f"{blk}.attn_q.weight", rng, e, e, w)
        _add_matrix(writer, f"{blk}.attn_k.weight", rng, kv, e, w)
        _add_matrix(writer, f"{blk}.attn_v.weight", rng, kv, e, w)
        _add_matrix(writer, f"{blk}.attn_output.weight", rng, e, e, w)
        writer.add_tensor(f"{blk}.ffn_norm.weight", np.ones(e, dtype=np.float32))
        _add_matrix(writer, f"{blk}.ffn_gate.weight", rng, shape.n_ff, e, w)
        _add_matrix(writer, f"{blk}.ffn_up.weight", rng, shape.n_ff, e, w)
        _add_matrix(writer, f"{blk}.ffn_down.weight", rng, e, shape.n_ff, w)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path

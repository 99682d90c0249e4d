"""Checking the model shape a GGUF header declares against its own tensors and sane bounds.

Everything that sizes a model (memory estimates, layer placement, the KV cache) trusts the shape
keys: ``{arch}.block_count``, ``embedding_length``, ``attention.head_count``... A few hundred bytes
declaring 4,294,967,295 blocks once made the estimator build one entry per block until memory ran
out. llama.cpp refuses such a file when it loads it (it holds at most 512 blocks and checks every
tensor's shape against these keys), so a header whose keys are absurd or disagree with its own
tensors is refused here, where it is read, with one ``GgufError``.

The tensor cross-checks are skipped for one part of a split model (it holds only some of the
tensors) and for a file with no tensors at all (a vocabulary-only file); the bounds always hold.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lexitui.gguf.errors import GgufError
from lexitui.gguf.records import GgufArray, MetadataValue
from lexitui.gguf.text import safe_text

if TYPE_CHECKING:
    from lexitui.gguf.records import GgufHeader, GgufTensor

# Generous multiples of what real models use (llama.cpp's own ceilings: 512 blocks, 1024
# experts), low enough that no estimate sized by them can run out of memory or time.
MAX_BLOCKS = 4096
MAX_WIDTH = 1 << 20  # embedding and feed-forward widths (the largest real ones are ~64 Ki)
MAX_HEADS = 1 << 14
MAX_HEAD_SIZE = 1 << 16
MAX_EXPERTS = 4096
MAX_CONTEXT = 1 << 30  # the longest trained contexts are ~10 M tokens
MAX_VOCAB = 1 << 24

# Shape keys (after ``{arch}.``) and their bounds; a per-layer array is bounded item by item.
_BOUNDS: dict[str, tuple[int, int]] = {
    "block_count": (1, MAX_BLOCKS),
    "embedding_length": (1, MAX_WIDTH),
    "feed_forward_length": (0, MAX_WIDTH),
    "expert_feed_forward_length": (0, MAX_WIDTH),
    "expert_shared_feed_forward_length": (0, MAX_WIDTH),
    # 0 heads is real: recurrent models (Mamba, RWKV) write it.
    "attention.head_count": (0, MAX_HEADS),
    "attention.head_count_kv": (0, MAX_HEADS),
    "attention.key_length": (0, MAX_HEAD_SIZE),
    "attention.value_length": (0, MAX_HEAD_SIZE),
    "context_length": (0, MAX_CONTEXT),
    "expert_count": (0, MAX_EXPERTS),
    "expert_used_count": (0, MAX_EXPERTS),
    "expert_shared_count": (0, MAX_EXPERTS),
    "vocab_size": (0, MAX_VOCAB),
}
# Keys llama.cpp reads either as one number or as one number per block (get_key_or_arr).
_PER_LAYER = ("feed_forward_length", "attention.head_count", "attention.head_count_kv")

# A block's tensors: "blk.N." at the start, or after a prefix ("enc.blk.N." in T5).
_ANY_BLOCK_TENSOR = re.compile(r"(?:^|\.)blk\.(\d{1,9})\.")


def check_shape(header: GgufHeader) -> None:
    """Raise GgufError when the shape keys are absurd or disagree with the tensors."""
    arch = header.architecture
    if arch is None:
        return  # no architecture, no shape keys to trust (estimates refuse such a file)
    for suffix, (low, high) in _BOUNDS.items():
        _check_bounds(f"{arch}.{suffix}", header.metadata.get(f"{arch}.{suffix}"), low, high)
    _check_per_layer_lengths(header, arch)
    _check_experts(header, arch)
    if header.tensors and not _is_split_part(header):
        _check_blocks(header, arch)
        _check_widths(header, arch)


def _check_bounds(key: str, value: MetadataValue | None, low: int, high: int) -> None:
    values = value.values or () if isinstance(value, GgufArray) else (value,)
    for item in values:
        if isinstance(item, int) and not isinstance(item, bool) and not low <= item <= high:
            raise GgufError(f"{safe_text(key, 80)} is {item:,}, outside {low} to {high:,}")


def _check_per_layer_lengths(header: GgufHeader, arch: str) -> None:
    blocks = header.block_count
    for suffix in _PER_LAYER:
        value = header.metadata.get(f"{arch}.{suffix}")
        if isinstance(value, GgufArray) and blocks is not None and value.length != blocks:
            raise GgufError(
                f"{safe_text(arch, 40)}.{suffix} lists {value.length} values for {blocks} blocks"
            )


def _check_experts(header: GgufHeader, arch: str) -> None:
    used = header.metadata.get(f"{arch}.expert_used_count")
    experts = header.expert_count or 0
    if isinstance(used, int) and not isinstance(used, bool) and used > experts:
        raise GgufError(f"{safe_text(arch, 40)} uses {used} experts per token of {experts}")


def _is_split_part(header: GgufHeader) -> bool:
    count = header.metadata.get("split.count")
    return isinstance(count, int) and not isinstance(count, bool) and count > 1


def _check_blocks(header: GgufHeader, arch: str) -> None:
    """Each block has tensors named ``blk.N.*``, so the count cannot exceed the highest N + 1,
    nor the number of tensors."""
    blocks = header.block_count
    if blocks is None:
        return
    indices = [int(m.group(1)) for t in header.tensors if (m := _ANY_BLOCK_TENSOR.search(t.name))]
    key = f"{safe_text(arch, 40)}.block_count"
    if indices and blocks > max(indices) + 1:
        raise GgufError(
            f"{key} is {blocks:,}, but the tensors stop at blk.{max(indices)} "
            f"({max(indices) + 1} blocks)"
        )
    if blocks > len(header.tensors):
        raise GgufError(f"{key} is {blocks:,}, more than the {len(header.tensors)} tensors")


def _check_widths(header: GgufHeader, arch: str) -> None:
    """The embedding width is the row length of the token embeddings; the KV heads times the
    head size are the width of the key and value projections (where they are separate)."""
    tensors = {t.name: t for t in header.tensors}
    embd = header.embedding_length
    # WavTokenizer-style decoders embed tokens at their own feature width.
    features = header.metadata.get(f"{arch}.features_length")
    row = features if isinstance(features, int) and not isinstance(features, bool) else embd
    token_embd = tensors.get("token_embd.weight")
    if row is not None and token_embd is not None and token_embd.dims[0] != row:
        raise GgufError(
            f"{safe_text(arch, 40)}.embedding_length is {row:,}, but token_embd.weight rows "
            f"are {token_embd.dims[0]:,} long"
        )
    kv_heads = header.metadata.get(f"{arch}.attention.head_count_kv")
    if kv_heads is None:  # absent: as many as the query heads
        kv_heads = header.metadata.get(f"{arch}.attention.head_count")
    if not isinstance(kv_heads, int) or isinstance(kv_heads, bool):
        return  # per-layer heads: layer 0's projections may be of another kind
    for projection, size in (("attn_k", header.key_length), ("attn_v", header.value_length)):
        tensor = tensors.get(f"blk.0.{projection}.weight")
        if size is not None and tensor is not None and len(tensor.dims) == 2:
            _check_projection(arch, tensor, kv_heads, size)


def _check_projection(arch: str, tensor: GgufTensor, kv_heads: int, size: int) -> None:
    if tensor.dims[1] != kv_heads * size:
        raise GgufError(
            f"{safe_text(arch, 40)} declares {kv_heads} KV heads of {size}, but "
            f"{tensor.name} is {tensor.dims[1]:,} wide"
        )

"""Checking GGUF tensor infos (checklist G3): shapes, types, offsets, overlaps, file end."""

from __future__ import annotations

import itertools
import struct

from lexitui.gguf.constants import BLOCK_LAYOUT, GGML_TYPE_NAMES, MAX_DIMS
from lexitui.gguf.cursor import Cursor
from lexitui.gguf.errors import GgufError
from lexitui.gguf.limits import GgufLimits
from lexitui.gguf.metadata import read_name
from lexitui.gguf.records import GgufTensor
from lexitui.gguf.text import safe_text

# name length, a 1-byte name, n_dims, one dimension, type, offset
MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 8 + 4 + 8
INT64_LIMIT = 2**63  # ggml counts elements and bytes in int64
_TYPE_AND_OFFSET = struct.Struct("<IQ")


def read_tensor_info(cursor: Cursor, limits: GgufLimits, alignment: int) -> GgufTensor:
    at = cursor.offset
    raw = read_name(cursor, limits.max_name_bytes, "tensor name")
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise GgufError(f"invalid UTF-8 in the tensor name at byte {at}") from None
    if not name.isprintable():
        raise GgufError(f"tensor name at byte {at} has control characters: {safe_text(name)}")
    shown = safe_text(name, 80)
    n_dims = cursor.u32()
    if not 1 <= n_dims <= MAX_DIMS:
        raise GgufError(f"tensor {shown} has {n_dims} dimensions (must be 1 to {MAX_DIMS})")
    cursor.need(8 * n_dims + _TYPE_AND_OFFSET.size)
    dims = struct.unpack_from(f"<{n_dims}Q", cursor.buf, cursor.pos)
    cursor.pos += 8 * n_dims
    ggml_type, offset = _TYPE_AND_OFFSET.unpack_from(cursor.buf, cursor.pos)
    cursor.pos += _TYPE_AND_OFFSET.size
    return make_tensor(name, tuple(dims), ggml_type, offset, alignment)


def make_tensor(
    name: str, dims: tuple[int, ...], ggml_type: int, offset: int, alignment: int
) -> GgufTensor:
    shown = safe_text(name, 80)
    n_elements = 1
    for dim in dims:
        if dim == 0 or dim >= INT64_LIMIT:  # >= 2^63 is a negative int64 to ggml
            raise GgufError(f"tensor {shown} has an invalid dimension {dim} in {list(dims)}")
        n_elements *= dim
    if n_elements >= INT64_LIMIT:
        raise GgufError(f"tensor {shown} has too many elements ({list(dims)} overflows int64)")
    layout = BLOCK_LAYOUT.get(ggml_type)
    if layout is None:
        raise GgufError(f"tensor {shown} has unknown ggml type {ggml_type}")
    block, block_bytes = layout
    type_name = GGML_TYPE_NAMES[ggml_type]
    if dims[0] % block:
        raise GgufError(
            f"tensor {shown}: first dimension {dims[0]} is not a multiple of the "
            f"{type_name} block size {block}"
        )
    if offset % alignment:
        raise GgufError(
            f"tensor {shown}: offset {offset} is not a multiple of the alignment {alignment}"
        )
    n_bytes = n_elements // block * block_bytes
    return GgufTensor(name, dims, ggml_type, type_name, offset, n_elements, n_bytes)


def check_layout(tensors: tuple[GgufTensor, ...], data_offset: int, file_size: int | None) -> None:
    """Refuse duplicate names, overlapping data, and data that runs past the end of the file."""
    names: set[str] = set()
    for tensor in tensors:
        if tensor.name in names:
            raise GgufError(f"duplicate tensor name {safe_text(tensor.name, 80)}")
        names.add(tensor.name)
    ordered = sorted(tensors, key=lambda t: t.offset)
    for first, second in itertools.pairwise(ordered):
        if first.offset + first.n_bytes > second.offset:
            raise GgufError(
                f"tensors {safe_text(first.name, 80)} and {safe_text(second.name, 80)} overlap "
                f"(bytes {first.offset}+{first.n_bytes} and {second.offset})"
            )
    data_end = data_offset + max((t.offset + t.n_bytes for t in tensors), default=0)
    if file_size is not None and data_end > file_size:
        raise GgufError(f"file is truncated: tensors need {data_end} bytes, file has {file_size}")

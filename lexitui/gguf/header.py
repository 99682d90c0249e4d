"""The one bounded GGUF header parser: magic, counts, metadata and tensor infos, all validated.

Why not ``gguf.GGUFReader``: it memory-maps the whole file and trusts every count and length it
reads (a 57-byte file declaring a 3M-item array took it 18 s and 3.7 GB), and it is ~100x slower
on a real header. This parser checks each count against the limits and against the bytes left
before it allocates or loops, so any input is accepted or refused with one ``GgufError`` in
bounded time and memory (checklist G1-G5), and checks the model shape the metadata declares
against the tensors (``shape.py``). It reads only the header, never tensor data.
"""

from __future__ import annotations

import struct
from types import MappingProxyType

from lexitui.domain.units import KIB, MIB
from lexitui.gguf.constants import (
    ALIGNMENT_KEY,
    DEFAULT_ALIGNMENT,
    GGUF_MAGIC,
    SUPPORTED_VERSIONS,
    UINT32,
)
from lexitui.gguf.cursor import ByteSource, Cursor
from lexitui.gguf.errors import GgufError
from lexitui.gguf.limits import DEFAULT_LIMITS, GgufLimits
from lexitui.gguf.metadata import MIN_KV_BYTES, read_key, read_value
from lexitui.gguf.records import GgufArray, GgufHeader, GgufTensor, MetadataValue
from lexitui.gguf.shape import check_shape
from lexitui.gguf.tensors import MIN_TENSOR_INFO_BYTES, check_layout, read_tensor_info
from lexitui.gguf.text import safe_text

__all__ = [
    "ByteSource",
    "GgufArray",
    "GgufHeader",
    "GgufLimits",
    "GgufTensor",
    "parse_header",
]

_PREAMBLE = struct.Struct("<4sIQQ")  # magic, version, tensor count, kv count


def parse_header(
    source: ByteSource,
    *,
    limits: GgufLimits = DEFAULT_LIMITS,
    first_read: int = 64 * KIB,
    max_read: int = 4 * MIB,
) -> GgufHeader:
    """Read and validate the header of the GGUF file in ``source``.

    Reads go forward only, in blocks of ``first_read`` bytes doubling up to ``max_read``.
    Raises GgufError for anything malformed, hostile or unsupported.
    """
    cursor = Cursor(
        source, max_offset=limits.max_header_bytes, first_read=first_read, max_read=max_read
    )
    version, tensor_count, kv_count = _read_preamble(cursor, limits)
    metadata, alignment = _read_metadata(cursor, kv_count, limits)
    tensors = tuple(read_tensor_info(cursor, limits, alignment) for _ in range(tensor_count))
    header_bytes = cursor.offset
    data_offset = -(-header_bytes // alignment) * alignment
    check_layout(tensors, data_offset, source.size)
    header = GgufHeader(
        version=version,
        alignment=alignment,
        metadata=MappingProxyType(metadata),
        tensors=tensors,
        data_offset=data_offset,
        header_bytes=header_bytes,
        file_size=source.size,
    )
    check_shape(header)  # the shape keys every estimate trusts must match the tensors
    return header


def _read_preamble(cursor: Cursor, limits: GgufLimits) -> tuple[int, int, int]:
    if cursor.remaining() == 0:
        raise GgufError("not a GGUF file (it is empty)")
    try:
        cursor.need(4)
    except GgufError:
        if not GGUF_MAGIC.startswith(cursor.buf):  # a short file that is not a GGUF at all
            raise GgufError("not a GGUF file (bad magic)") from None
        raise
    if cursor.buf[:4] != GGUF_MAGIC:
        raise GgufError("not a GGUF file (bad magic)")
    cursor.need(_PREAMBLE.size)
    _magic, version, tensor_count, kv_count = _PREAMBLE.unpack_from(cursor.buf, 0)
    cursor.pos = _PREAMBLE.size
    if version not in SUPPORTED_VERSIONS:
        swapped = int.from_bytes(version.to_bytes(4, "little"), "big")
        if swapped in SUPPORTED_VERSIONS:
            raise GgufError("big-endian GGUF files are not supported (llama.cpp cannot load them)")
        raise GgufError(f"unsupported GGUF version {version} (lexitui reads versions 2 and 3)")
    if tensor_count > limits.max_tensors:
        raise GgufError(f"tensor count {tensor_count} is absurd (limit {limits.max_tensors})")
    if kv_count > limits.max_kv_pairs:
        raise GgufError(f"metadata count {kv_count} is absurd (limit {limits.max_kv_pairs})")
    remaining = cursor.remaining()
    least = kv_count * MIN_KV_BYTES + tensor_count * MIN_TENSOR_INFO_BYTES
    if remaining is not None and least > remaining:
        raise GgufError(
            f"{kv_count} metadata entries and {tensor_count} tensors cannot fit in the "
            f"{remaining} bytes left in the file"
        )
    return version, tensor_count, kv_count


def _read_metadata(
    cursor: Cursor, kv_count: int, limits: GgufLimits
) -> tuple[dict[str, MetadataValue], int]:
    metadata: dict[str, MetadataValue] = {}
    alignment_type: int | None = None
    for _ in range(kv_count):
        at = cursor.offset
        key = read_key(cursor, limits)
        if key in metadata:
            raise GgufError(f"duplicate metadata key {key} at byte {at}")
        value_type = cursor.u32()
        metadata[key] = read_value(cursor, value_type, limits, key)
        if key == ALIGNMENT_KEY:
            alignment_type = value_type
    return metadata, _alignment(metadata.get(ALIGNMENT_KEY), alignment_type)


def _alignment(value: MetadataValue | None, value_type: int | None) -> int:
    """``general.alignment`` (G4): a non-zero power of two stored as uint32; 32 when absent."""
    if value is None:
        return DEFAULT_ALIGNMENT
    if (
        value_type != UINT32
        or not isinstance(value, int)
        or isinstance(value, bool)
        or value <= 0
        or value & (value - 1)
    ):
        shown = safe_text(repr(value), 60)
        raise GgufError(f"{ALIGNMENT_KEY} must be a non-zero power of two uint32, not {shown}")
    return value

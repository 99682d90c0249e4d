"""GGUF and ggml numbering, taken from the ``gguf`` package so it tracks llama.cpp.

Only constants come from ``gguf``; its reader is never used for parsing (see ``header.py``).
"""

from __future__ import annotations

import struct

from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFValueType, LlamaFileType

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)  # version 1 used 32-bit counts and lengths and is long gone
DEFAULT_ALIGNMENT = 32
ALIGNMENT_KEY = "general.alignment"
MAX_DIMS = 4  # GGML_MAX_DIMS

# ggml type number -> (elements per block, bytes per block)
BLOCK_LAYOUT: dict[int, tuple[int, int]] = {
    int(kind): (int(block), int(size)) for kind, (block, size) in GGML_QUANT_SIZES.items()
}
GGML_TYPE_NAMES: dict[int, str] = {int(kind): kind.name for kind in GGMLQuantizationType}

STRING = int(GGUFValueType.STRING)
ARRAY = int(GGUFValueType.ARRAY)
BOOL = int(GGUFValueType.BOOL)
UINT32 = int(GGUFValueType.UINT32)
VALUE_TYPE_NAMES: dict[int, str] = {int(kind): kind.name for kind in GGUFValueType}

# Fixed-size value types -> their little-endian struct; strings and arrays are read separately.
SCALAR_STRUCTS: dict[int, struct.Struct] = {
    int(GGUFValueType.UINT8): struct.Struct("<B"),
    int(GGUFValueType.INT8): struct.Struct("<b"),
    int(GGUFValueType.UINT16): struct.Struct("<H"),
    int(GGUFValueType.INT16): struct.Struct("<h"),
    int(GGUFValueType.UINT32): struct.Struct("<I"),
    int(GGUFValueType.INT32): struct.Struct("<i"),
    int(GGUFValueType.FLOAT32): struct.Struct("<f"),
    int(GGUFValueType.BOOL): struct.Struct("<?"),
    int(GGUFValueType.UINT64): struct.Struct("<Q"),
    int(GGUFValueType.INT64): struct.Struct("<q"),
    int(GGUFValueType.FLOAT64): struct.Struct("<d"),
}


def file_type_name(file_type: int) -> str:
    """llama.cpp's name for a ``general.file_type`` value: 15 -> ``Q4_K_M``, 0 -> ``F32``."""
    try:
        name: str = LlamaFileType(file_type).name
    except ValueError:
        return f"unknown ({file_type})"
    return name.removeprefix("MOSTLY_").removeprefix("ALL_")

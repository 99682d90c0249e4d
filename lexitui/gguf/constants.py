"""GGUF and ggml numbering, as llama.cpp defines it.

Written out here rather than read from the ``gguf`` package at import: that package loads numpy
(~0.1 s), which ``lexitui ls`` and the TUI's start would pay for a few small tables.
tests/gguf/test_gguf_numbering.py checks every table against the installed ``gguf`` package, so a
new llama.cpp type is noticed when that package is upgraded. Its reader is never used for parsing
(see ``header.py``).
"""

from __future__ import annotations

import struct

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)  # version 1 used 32-bit counts and lengths and is long gone
DEFAULT_ALIGNMENT = 32
ALIGNMENT_KEY = "general.alignment"
MAX_DIMS = 4  # GGML_MAX_DIMS

# ggml type number -> (name, elements per block, bytes per block)
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 40),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
    40: ("NVFP4", 64, 36),
    41: ("Q1_0", 128, 18),
}
# metadata value type number -> name
VALUE_TYPE_NAMES: dict[int, str] = {
    0: "UINT8",
    1: "INT8",
    2: "UINT16",
    3: "INT16",
    4: "UINT32",
    5: "INT32",
    6: "FLOAT32",
    7: "BOOL",
    8: "STRING",
    9: "ARRAY",
    10: "UINT64",
    11: "INT64",
    12: "FLOAT64",
}
# ``general.file_type`` -> llama.cpp's name, without its MOSTLY_/ALL_ prefix
FILE_TYPE_NAMES: dict[int, str] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
    39: "NVFP4",
    40: "Q1_0",
    1024: "GUESSED",
}

# ggml type number -> (elements per block, bytes per block)
BLOCK_LAYOUT: dict[int, tuple[int, int]] = {
    kind: (block, size) for kind, (_, block, size) in GGML_TYPES.items()
}
GGML_TYPE_NAMES: dict[int, str] = {kind: name for kind, (name, _, _) in GGML_TYPES.items()}

_VALUE_TYPES = {name: kind for kind, name in VALUE_TYPE_NAMES.items()}
STRING = _VALUE_TYPES["STRING"]
ARRAY = _VALUE_TYPES["ARRAY"]
BOOL = _VALUE_TYPES["BOOL"]
UINT32 = _VALUE_TYPES["UINT32"]

# Fixed-size value types -> their little-endian struct; strings and arrays are read separately.
SCALAR_STRUCTS: dict[int, struct.Struct] = {
    _VALUE_TYPES[name]: struct.Struct(code)
    for name, code in (
        ("UINT8", "<B"),
        ("INT8", "<b"),
        ("UINT16", "<H"),
        ("INT16", "<h"),
        ("UINT32", "<I"),
        ("INT32", "<i"),
        ("FLOAT32", "<f"),
        ("BOOL", "<?"),
        ("UINT64", "<Q"),
        ("INT64", "<q"),
        ("FLOAT64", "<d"),
    )
}


def file_type_name(file_type: int) -> str:
    """llama.cpp's name for a ``general.file_type`` value: 15 -> ``Q4_K_M``, 0 -> ``F32``."""
    name = FILE_TYPE_NAMES.get(file_type)
    return f"unknown ({file_type})" if name is None else name

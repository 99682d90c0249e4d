"""Reads the few GGUF header keys ``/api/create`` reports in a model's ``details``.

``gguf.GGUFReader`` parses every tensor and the whole vocabulary (3.7 s for the 98 MB starter),
too slow for a test fake; this walks the key/value section once, skipping arrays, and stops as
soon as it has what it needs.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import IO, Any

import gguf

_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
STRING, ARRAY = 8, 9
WANTED = ("general.architecture", "general.file_type", "general.size_label")


def _read(f: IO[bytes], fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise ValueError("truncated GGUF header")
    return struct.unpack(fmt, data)[0]


def _string(f: IO[bytes]) -> str:
    length = _read(f, "<Q")
    if length > 1 << 20:
        raise ValueError("GGUF string too long")
    return f.read(length).decode("utf-8", "replace")


def _value(f: IO[bytes], kind: int) -> Any:
    if kind == STRING:
        return _string(f)
    if kind in _SCALARS:
        return _read(f, _SCALARS[kind])
    if kind == ARRAY:
        item, count = _read(f, "<I"), _read(f, "<Q")
        if item in _SCALARS:
            f.seek(struct.calcsize(_SCALARS[item]) * count, 1)
        else:
            for _ in range(count):
                _value(f, item)
        return None
    raise ValueError(f"unknown GGUF value type {kind}")


def gguf_details(path: Path) -> dict[str, Any]:
    """``family``, ``quantization_level``, ``parameter_size``, ``context_length`` when present."""
    found: dict[str, Any] = {}
    with path.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise ValueError("invalid file magic")
        _read(f, "<I")  # version
        _read(f, "<Q")  # tensor count
        for _ in range(_read(f, "<Q")):
            key = _string(f)
            value = _value(f, _read(f, "<I"))
            found[key] = value
            arch = found.get("general.architecture")
            if all(k in found for k in WANTED) and f"{arch}.context_length" in found:
                break
    arch = str(found.get("general.architecture") or "unknown")
    details: dict[str, Any] = {"family": arch}
    file_type = found.get("general.file_type")
    if isinstance(file_type, int):
        try:
            details["quantization_level"] = gguf.LlamaFileType(file_type).name.removeprefix(
                "MOSTLY_"
            )
        except ValueError:
            details["quantization_level"] = "unknown"
    if found.get("general.size_label"):
        details["parameter_size"] = str(found["general.size_label"])
    if isinstance(found.get(f"{arch}.context_length"), int):
        details["context_length"] = found[f"{arch}.context_length"]
    return details

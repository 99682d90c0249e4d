"""The files that make up one model: the file itself, or every part of a split set.

llama.cpp is given the first part and opens the others by name from the same folder
(``name-00002-of-00003.gguf``), so the parts are found the same way here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from lexitui.storage.errors import StorageError

_NUMBERED = re.compile(r"^(?P<stem>.+)-(?P<i>\d{5})-of-(?P<n>\d{5})(?P<ext>\.gguf)$", re.IGNORECASE)
MAX_PARTS = 1000


def split_index(name: str) -> tuple[str, str, int, int] | None:
    """``(stem, ext, index, count)`` for a numbered part, None for a whole file."""
    match = _NUMBERED.match(name)
    if match is None:
        return None
    index, count = int(match["i"]), int(match["n"])
    if not 1 <= index <= count <= MAX_PARTS:
        raise StorageError(f"{name}: impossible part numbers {index} of {count}")
    return match["stem"], match["ext"], index, count


def part_name(stem: str, ext: str, index: int, count: int) -> str:
    return f"{stem}-{index:05d}-of-{count:05d}{ext}"


def model_parts(first: Path) -> list[Path]:
    """``first`` and, for a split set, its siblings in order; raises StorageError when ``first``
    is not the first part or a part is missing."""
    split = split_index(first.name)
    if split is None:
        return [first]
    stem, ext, index, count = split
    if index != 1:
        raise StorageError(f"{first.name} is part {index} of {count}: use the first part")
    parts = [first.with_name(part_name(stem, ext, i, count)) for i in range(1, count + 1)]
    missing = [p.name for p in parts if not os.path.exists(p)]
    if missing:
        raise StorageError(f"{first.name}: part {missing[0]} of the split set is missing")
    return parts


def whole_name(first: Path) -> str:
    """The name of the whole model: ``m-00001-of-00002.gguf`` -> ``m.gguf``."""
    split = split_index(first.name)
    return first.name if split is None else split[0] + split[1]

"""Listing files under a library folder without ever entering a symlinked folder (P3).

Depth and entry count are bounded: a library folder is someone else's, and a scan must finish
in bounded time even on a cache with a million small files in it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

MAX_ENTRIES = 200_000


def iter_files(folder: Path, max_depth: int, budget: list[int] | None = None) -> Iterator[Path]:
    """Paths of non-directory entries (files and links) under ``folder``, sorted per folder,
    at most ``max_depth`` folders deep; unreadable folders are passed over."""
    budget = budget if budget is not None else [MAX_ENTRIES]
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        budget[0] -= 1
        if budget[0] < 0:
            return
        if entry.is_dir(follow_symlinks=False):
            if max_depth > 0:
                yield from iter_files(Path(entry.path), max_depth - 1, budget)
        else:
            yield Path(entry.path)


def is_gguf_name(name: str) -> bool:
    return name.lower().endswith(".gguf")

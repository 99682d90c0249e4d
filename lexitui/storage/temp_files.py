"""Scratch files in the store's ``temp/`` folder that nobody will finish: an import or a copy
killed half-way. Files younger than the grace period may belong to a copy running right now
(its writes keep the time fresh), so they stay."""

from __future__ import annotations

import contextlib
import os
import stat

from lexitui.downloads.layout import StoreLayout

TEMP_GRACE_S = 3600.0


def clean_temp(
    layout: StoreLayout, now: float, grace_s: float = TEMP_GRACE_S
) -> tuple[list[str], int]:
    """(names removed, bytes freed); blocking."""
    removed: list[str] = []
    freed = 0
    try:
        names = sorted(os.listdir(layout.temp_dir))
    except OSError:
        return removed, freed
    for name in names:
        path = layout.temp_dir / name
        with contextlib.suppress(OSError):
            info = os.lstat(path)
            if stat.S_ISDIR(info.st_mode) or now - info.st_mtime < grace_s:
                continue
            os.unlink(path)
            removed.append(name)
            freed += info.st_size if stat.S_ISREG(info.st_mode) else 0
    return removed, freed

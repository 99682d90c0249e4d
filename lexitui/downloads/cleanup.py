"""Deleting partial downloads nobody will resume, without touching one that is being written.

A partial is only deleted while we hold its lock (D13): another lexitui process writing it holds
that lock, so its file is reported as in use and left alone. A meta without its partial is a
leftover of a kill between the two deletions, and goes too.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Collection

from lexitui.downloads.layout import StoreLayout
from lexitui.downloads.lock import LockBusy, open_locked, release
from lexitui.downloads.records import CleanupResult

PARTIAL = ".partial"
META_SUFFIXES = (".meta", ".meta.tmp")


def cleanup_partials(
    layout: StoreLayout,
    keep: Collection[str],
    only: Collection[str] | None = None,
    *,
    spare_younger_than: float = 0.0,
) -> CleanupResult:
    """Delete partials (and metas) of downloads whose id is not in ``keep`` (and, given
    ``only``, is in it); blocking. ``spare_younger_than``: on a store shared by hosts, where
    another host's ``flock`` may not reach us, a partial written to this recently is in use."""
    folder = layout.downloads_dir
    deleted: list[str] = []
    in_use: list[str] = []
    freed = 0
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return CleanupResult()
    for name in names:
        if not name.endswith(PARTIAL) or not _wanted(name, keep, only):
            continue
        path = folder / name
        try:
            fd = open_locked(path, create=False)
        except LockBusy:
            in_use.append(name)
            continue
        except (FileNotFoundError, OSError):
            continue  # gone meanwhile, or a planted link we will not open
        try:
            info = os.fstat(fd)
            if spare_younger_than and time.time() - info.st_mtime < spare_younger_than:
                in_use.append(name)
                continue
            freed += info.st_size
            os.unlink(path)
            deleted.append(name)
            for suffix in META_SUFFIXES:
                meta = name[: -len(PARTIAL)] + suffix
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(folder / meta)
                    deleted.append(meta)
        finally:
            release(fd)
    for name in names:
        stem = next((name[: -len(s)] for s in META_SUFFIXES if name.endswith(s)), None)
        if stem is None or not _wanted(name, keep, only):
            continue
        if os.path.lexists(folder / (stem + PARTIAL)):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(folder / name)
            deleted.append(name)
    return CleanupResult(tuple(deleted), freed, tuple(in_use))


def _wanted(name: str, keep: Collection[str], only: Collection[str] | None) -> bool:
    download_id = name.split(".", 1)[0]
    return download_id not in keep and (only is None or download_id in only)

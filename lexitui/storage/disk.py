"""How many bytes each part of the store takes, and how much the disk has.

Blobs and the install folder's hard links are the same files: each file is counted once (by
device and inode). Partial downloads are counted as allocated on disk, since a partial may be
sparse: its size says what it will be, its blocks what it takes now.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from lexitui.downloads.layout import StoreLayout


@dataclass(frozen=True)
class DiskUsage:
    total: int
    used: int
    free: int


DiskUsageReader = Callable[[Path], DiskUsage]


def read_disk_usage(path: Path) -> DiskUsage:
    """The disk the folder is (or will be) on: a folder not made yet reads its nearest parent."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    found = shutil.disk_usage(path)
    return DiskUsage(found.total, found.used, found.free)


@dataclass(frozen=True)
class StoreBytes:
    models: int
    downloads: int
    temp: int


def store_bytes(layout: StoreLayout) -> StoreBytes:
    """Blocking (walks the store): call in a thread."""
    seen: set[tuple[int, int]] = set()
    # Manifests are a few hundred bytes of bookkeeping each: not model bytes.
    models = _sum([layout.blobs_dir, layout.installed_dir], seen, allocated=False)
    downloads = _sum([layout.downloads_dir], seen, allocated=True)
    temp = _sum([layout.temp_dir], seen, allocated=False)
    return StoreBytes(models, downloads, temp)


def _sum(folders: Iterable[Path], seen: set[tuple[int, int]], *, allocated: bool) -> int:
    total = 0
    for folder in folders:
        for dirpath, _dirs, files in os.walk(folder, followlinks=False):
            for name in files:
                try:
                    info = os.lstat(os.path.join(dirpath, name))
                except OSError:
                    continue
                key = (info.st_dev, info.st_ino)
                if not stat.S_ISREG(info.st_mode) or key in seen:
                    continue
                seen.add(key)
                blocks = getattr(info, "st_blocks", None)
                total += min(info.st_size, blocks * 512) if allocated and blocks else info.st_size
    return total

"""Writing a small file so that a crash leaves the old version or the new one (D7, S1's cousin):
temp file, fsync, rename, fsync the folder. The temp file is opened with ``O_EXCL|O_NOFOLLOW`` so
a symlink planted at its name is never written through (P3)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, shared: bool = False) -> None:
    """``shared``: several processes may write ``path`` at once (no lock of ours guards it, e.g.
    a manifest two instances install): each then writes a temp file of its own, so one never
    renames away the other's. A write that fails (a full disk) leaves no temp file behind."""
    suffix = f".{os.getpid()}.tmp" if shared else ".tmp"
    tmp = path.with_name(path.name + suffix)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)  # a leftover from a kill; unlink removes a planted link, not its target
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable; some file systems refuse, which is harmless."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)

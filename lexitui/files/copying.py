"""Copying model files in chunks: hashing on the way, reporting progress, stoppable, and
never leaving a half-written file under a name anyone reads.

Runs in worker threads (``asyncio.to_thread``): ``progress`` is called from the worker, and
``cancel`` (a ``threading.Event``) is checked between chunks, which is how an asyncio
cancellation reaches a copy that a thread is in the middle of.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

CHUNK = 8 << 20
# Hashing reads smaller pieces than copying so progress moves often; sha256 speed is the same.
HASH_READ_BYTES = 4 << 20
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)

Progress = Callable[[int], None]  # bytes of this file done so far


class CopyCancelled(Exception):
    """The copy was asked to stop; the half-written file is already gone."""


def copy_file(
    src: Path,
    dest: Path,
    *,
    mode: int = 0o600,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    want_hash: bool = False,
) -> str | None:
    """Copy ``src`` (never through a symlink) into the new file ``dest`` (never over an
    existing one), fsynced; returns the hex sha256 of the bytes when ``want_hash``."""
    digest = hashlib.sha256() if want_hash else None
    fd_in = os.open(src, READ_FLAGS)
    try:
        fd_out = os.open(dest, NEW_FILE_FLAGS, mode)
        try:
            done = 0
            while data := os.read(fd_in, CHUNK):
                if cancel is not None and cancel.is_set():
                    raise CopyCancelled(str(dest))
                view = memoryview(data)
                while view:
                    view = view[os.write(fd_out, view) :]
                if digest is not None:
                    digest.update(data)
                done += len(data)
                if progress is not None:
                    progress(done)
            os.fsync(fd_out)
        except BaseException:
            os.close(fd_out)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(dest)
            raise
        os.close(fd_out)
    finally:
        os.close(fd_in)
    return digest.hexdigest() if digest is not None else None


def hash_file(
    path: Path, progress: Progress | None = None, cancel: threading.Event | None = None
) -> str:
    digest = hashlib.sha256()
    fd = os.open(path, READ_FLAGS)
    try:
        done = 0
        while data := os.read(fd, HASH_READ_BYTES):
            if cancel is not None and cancel.is_set():
                raise CopyCancelled(str(path))
            digest.update(data)
            done += len(data)
            if progress is not None:
                progress(done)
    finally:
        os.close(fd)
    return digest.hexdigest()


def link_into(target: Path, dest: Path, *, symbolic: bool = False) -> None:
    """Put a link to ``target`` at ``dest``, atomically replacing what was there: a hard link
    where the file system allows one (else a symlink), or a symlink when asked."""
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    if symbolic:
        os.symlink(target, tmp)
    else:
        try:
            os.link(target, tmp, follow_symlinks=False)
        except OSError:  # no hard links here (some network and FAT file systems)
            os.symlink(target, tmp)
    os.replace(tmp, dest)

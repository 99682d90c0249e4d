"""Exclusive, cross-process locks on the partial files themselves (``flock``).

Two lexitui instances may be asked for the same file; the one holding the partial's lock is the
only writer (D12), and cleanup skips any partial whose lock it cannot take (D13). The kernel
drops a ``flock`` when its process dies, so a ``kill -9`` never leaves a stale lock behind.

A lock on a file that was meanwhile renamed (installed as a blob) or deleted (cleaned up)
protects nothing: after locking, the open file must still be the one at the path, else we
open again.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import stat
from collections.abc import Callable
from pathlib import Path

from lexitui.downloads.errors import UnsafePathError

OPEN_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
POLL_S = 0.2
MAX_REOPENS = 20  # a path swapped this often while we lock it is someone's attack


class LockBusy(Exception):
    """Another process (or another open file in this one) holds the lock."""


def open_locked(path: Path, *, create: bool = True) -> int:
    """Open ``path`` (never through a symlink, P3) and take its exclusive lock without waiting.

    Returns the descriptor; raises LockBusy, FileNotFoundError (``create=False``) or
    UnsafePathError for a symlink or a non-regular file.
    """
    flags = OPEN_FLAGS if create else OPEN_FLAGS & ~os.O_CREAT
    for _ in range(MAX_REOPENS):
        try:
            fd = os.open(path, flags, 0o600)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafePathError(f"{path} is a symlink; refusing to follow it") from None
            raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise UnsafePathError(f"{path} is not a regular file")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockBusy(str(path)) from None
        except BaseException:
            os.close(fd)
            raise
        if still_linked(fd, path):
            return fd
        os.close(fd)  # renamed or deleted between open and lock: try the path again
        if not create:
            raise FileNotFoundError(errno.ENOENT, "gone while locking", str(path))
    raise UnsafePathError(f"{path} keeps changing under us; refusing it")


async def acquire(path: Path, on_wait: Callable[[], None] | None = None) -> int:
    """Wait (cancellably) until the lock on ``path`` is ours; ``on_wait`` is called once."""
    told = False
    while True:
        try:
            return open_locked(path)
        except LockBusy:
            if not told and on_wait is not None:
                on_wait()
                told = True
            await asyncio.sleep(POLL_S)


def release(fd: int) -> None:
    """Closing the descriptor drops the lock."""
    os.close(fd)


def still_linked(fd: int, path: Path) -> bool:
    """The open file is still the one at ``path`` (not renamed away, not replaced)."""
    mine = os.fstat(fd)
    try:
        there = os.lstat(path)
    except FileNotFoundError:
        return False
    return (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino)

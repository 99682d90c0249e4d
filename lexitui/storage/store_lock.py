"""One lock file per data folder says who is using the model store.

Every lexitui that works with the store holds a shared ``flock`` on it for its lifetime; moving
the store needs it exclusively, so a move never pulls the files from under a running TUI or a
download in another terminal. The kernel drops the lock when a process dies, so a ``kill -9``
never leaves the store locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from lexitui.storage.errors import StorageError

LOCK_FILE = "storage.lock"
FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class StoreLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None

    def share(self) -> None:
        """Take (or go back to) the shared lock; StorageError while a move holds it."""
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StorageError("the model store is being moved by another lexitui") from None

    def exclusive(self) -> None:
        """Take the lock alone (converting ours); StorageError while anyone else holds it."""
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # flock converts by dropping the old lock first: take the shared one back.
            with contextlib.suppress(StorageError):
                self.share()
            raise StorageError(
                "another lexitui is using the model store; quit it (and let its downloads "
                "finish) before moving the store"
            ) from None

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.close(fd)

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._fd = os.open(self.path, FLAGS, 0o600)
        return self._fd

"""Closing a file descriptor only once no worker thread is using it.

File I/O runs in threads (``asyncio.to_thread``); cancelling the coroutine that waits does not
stop the thread. Closing the descriptor under a running ``pwrite`` would be worse than an
error: the number can be reused at once by another ``open``, and the late write would land in
that other file. Every thread-side operation passes through the gate; ``close`` waits for the
ones in flight (at most one buffer's write) and turns later ones away.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class GateClosed(Exception):
    pass


class IoGate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = 0
        self._closed = False

    def run(self, operation: Callable[[], T]) -> T:
        """Run ``operation`` (in the calling thread) unless the gate has closed."""
        with self._cond:
            if self._closed:
                raise GateClosed("the file was closed")
            self._busy += 1
        try:
            return operation()
        finally:
            with self._cond:
                self._busy -= 1
                self._cond.notify_all()

    def close(self) -> None:
        """Refuse new operations and wait for the running ones to finish."""
        with self._cond:
            self._closed = True
            self._cond.wait_for(lambda: self._busy == 0)

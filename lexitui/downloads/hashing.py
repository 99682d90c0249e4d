"""sha256 of a partial file, computed while it downloads.

Chunks arrive out of order, so the hash follows the contiguous prefix: whenever bytes from the
last hashed offset onwards are on disk, a worker thread reads them back (from the page cache)
and feeds the hash. By the time the last chunk lands, most of the file is hashed already; only
what arrived out of order at the very end is left. ``hashlib`` and ``pread`` release the GIL, so
this overlaps with the network on a second core.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
from collections.abc import Callable

READ_BYTES = 4 << 20


class PrefixHasher:
    def __init__(self, read: Callable[[int, int], bytes], available: Callable[[], int]) -> None:
        """``read(offset, size)``: the partial's bytes (called in a worker thread);
        ``available()``: where the bytes present from offset 0 end right now."""
        self._read = read
        self._available = available
        self._hash = hashlib.sha256()
        self.hashed = 0
        self._mutex = threading.Lock()  # a cancelled pass may still be running in its thread
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def poke(self) -> None:
        """More bytes may be there; cheap enough to call after every write."""
        self._wake.set()

    def reset(self) -> None:
        """The partial was emptied: start again from 0 (the running pass finishes first)."""
        with self._mutex:
            self._hash = hashlib.sha256()
            self.hashed = 0

    async def finish(self, size: int) -> str:
        """Hash up to ``size`` (all of it must be on disk) and return the hex digest."""
        await self.stop()
        while self.hashed < size:
            await asyncio.to_thread(self._step, size)
        return self._hash.hexdigest()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            # A failed background pass is harmless: finish() goes on from what was hashed.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self.hashed < (target := self._available()):
                await asyncio.to_thread(self._step, target)

    def _step(self, target: int) -> None:
        with self._mutex:
            start = self.hashed
            if start >= target:
                return
            data = self._read(start, min(READ_BYTES, target - start))
            if not data:
                raise OSError(f"the partial file ends at {start}, expected {target}")
            self._hash.update(data)
            self.hashed = start + len(data)

"""Store writes started from event callbacks, which may run on any thread.

Bus subscribers are plain functions (a publisher may be a worker thread), while the store is
async and lives on one loop. ``LoopWrites.submit`` runs a write as a task on that loop, hopping
onto it first when called from elsewhere, and ``drain`` waits for every write under way so a
stop never loses the last one. A failed write goes to ``on_error``: bookkeeping must never raise
into whoever published the event.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Coroutine
from typing import Any

from lexitui.store.database import StoreError

Write = Coroutine[Any, Any, None]
WRITE_ERRORS = (StoreError, sqlite3.Error, ValueError)


class LoopWrites:
    def __init__(self, on_error: Callable[[Exception], None]) -> None:
        self._on_error = on_error
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def bind(self) -> None:
        """Writes go to the running loop from now on."""
        self._loop = asyncio.get_running_loop()

    def submit(self, work: Write) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            work.close()
            return
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if not on_loop:  # published from a worker thread: hop onto the loop first
            loop.call_soon_threadsafe(self.submit, work)
            return
        task = loop.create_task(self._guarded(work))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        await asyncio.sleep(0)  # writes handed over from another thread land first
        while pending := [t for t in self._pending if not t.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    async def _guarded(self, work: Write) -> None:
        try:
            await work
        except WRITE_ERRORS as exc:
            self._on_error(exc)

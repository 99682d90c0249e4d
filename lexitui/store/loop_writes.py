"""Store writes started from event callbacks.

Bus subscribers are plain functions, while the store is async. Every event is published on the
loop that owns the bus (the bus checks it), so ``LoopWrites.submit`` runs a write as a task on
that loop, and ``drain`` waits for every write under way so a stop never loses the last one. A
failed write goes to ``on_error``: bookkeeping must never raise into whoever published the event.
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
        task = loop.create_task(self._guarded(work))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        while pending := [t for t in self._pending if not t.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    async def _guarded(self, work: Write) -> None:
        try:
            await work
        except WRITE_ERRORS as exc:
            self._on_error(exc)

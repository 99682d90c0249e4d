"""Rows submitted one by one from event callbacks, written together.

A busy server finishes many requests a second, and each of them used to cost its own write
transaction (several trips to the store's thread, CPU taken from the requests). Items wait
here for ``wait_s`` after the first, then go to the store in one call; ``LoopWrites.drain``
waits for a batch still waiting, so a stop (or a flush before a read) never loses one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from lexitui.store.loop_writes import LoopWrites

T = TypeVar("T")
BATCH_WAIT_S = 0.1


class BatchedWrites(Generic[T]):
    def __init__(
        self,
        write: Callable[[Sequence[T]], Awaitable[None]],
        writes: LoopWrites,
        *,
        wait_s: float = BATCH_WAIT_S,
    ) -> None:
        self._write = write
        self._writes = writes
        self._wait_s = wait_s
        self._items: list[T] = []

    def submit(self, item: T) -> None:
        self._items.append(item)
        if len(self._items) == 1:  # the first of a batch starts its write
            self._writes.submit(self._flush())

    async def _flush(self) -> None:
        try:
            await asyncio.sleep(self._wait_s)
        finally:  # however the wait ends, the next item starts a new batch
            items, self._items = self._items, []
        await self._write(items)

"""The limit on how many downloads run at once, handing free slots out by priority."""

from __future__ import annotations

import asyncio
import itertools

from lexitui.domain.enums import DownloadPriority

_RANK = {DownloadPriority.HIGH: 0, DownloadPriority.NORMAL: 1, DownloadPriority.LOW: 2}


class SlotGate:
    """The limit on running downloads. Unlike a semaphore, whose waiters wake in arrival order,
    it hands a freed slot to the waiter of highest priority (arrival order breaks ties), and a
    waiter's priority can change while it waits."""

    def __init__(self, slots: int) -> None:
        self._free = max(1, slots)
        self._arrivals = itertools.count()
        # download id -> (rank, arrival, the future that the slot is handed over on)
        self._waiting: dict[str, tuple[int, int, asyncio.Future[None]]] = {}

    async def acquire(self, download_id: str, priority: DownloadPriority) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[download_id] = (_RANK[priority], next(self._arrivals), handed)
        try:
            await handed
        except asyncio.CancelledError:
            # Cancelled just after a slot was handed over, before this task ran: pass it on,
            # or the slot would be lost for good.
            if handed.done() and not handed.cancelled():
                self.release()
            raise
        finally:
            entry = self._waiting.get(download_id)
            if entry is not None and entry[2] is handed:
                del self._waiting[download_id]

    def release(self) -> None:
        while self._waiting:
            download_id = min(self._waiting, key=lambda k: self._waiting[k][:2])
            handed = self._waiting.pop(download_id)[2]
            if not handed.done():  # a cancelled waiter that has not cleaned up yet is skipped
                handed.set_result(None)
                return
        self._free += 1

    def reprioritise(self, download_id: str, priority: DownloadPriority) -> None:
        """A waiting download moves to its new priority's line, keeping its place by arrival."""
        entry = self._waiting.get(download_id)
        if entry is not None:
            self._waiting[download_id] = (_RANK[priority], entry[1], entry[2])

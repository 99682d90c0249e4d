"""Writes the events that matter later (installs, deletions, loads, routings) to the store.

Events are queued on publish and written by one task, in batches of whatever queued up within
a tenth of a second of the first, so a publisher never waits on disk and events keep their
order; ``stop()`` drains the queue so nothing published before quit is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from reactivex.abc import DisposableBase

from lexitui.events import PERSISTED_EVENTS, Event, EventBus
from lexitui.store.database import Store, StoreBusy, StoreError, StoreFull

log = logging.getLogger(__name__)

# Pauses before a batch refused for a busy database is tried again: another lexitui process
# writing many small transactions can keep this one waiting past the busy timeout once, and a
# later try then goes through; only a lock held through all of them loses the batch.
BUSY_RETRY_PAUSES_S = (0.25, 1.0, 2.0)
BATCH_WAIT_S = 0.1


class EventRecorder:
    def __init__(self, bus: EventBus, store: Store) -> None:
        self._bus = bus
        self._store = store
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._subscription: DisposableBase | None = None
        self._lost_to_full_disk = 0  # said once at stop, unless the full disk was said already

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._drain())

        def enqueue(event: Event) -> None:
            if isinstance(event, PERSISTED_EVENTS):
                self._queue.put_nowait(event)

        self._subscription = self._bus.all.subscribe(enqueue)

    async def _drain(self) -> None:
        # Whatever queued up while the last write ran goes in one transaction: a routed request
        # publishes several events at once, and one commit costs far less than one each.
        while (event := await self._queue.get()) is not None:
            # A moment for the events around this one (a routed request publishes its last
            # one when the answer ends): each commit is several trips to the store's thread,
            # CPU a busy server would rather give to requests. ``stop()`` still drains.
            await asyncio.sleep(BATCH_WAIT_S)
            batch = [event]
            done = False
            while not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    done = True
                    break
                batch.append(more)
            try:
                await self._write(batch)
            except StoreFull:
                # Whoever's write mattered more (a download, a command) says the disk is full.
                self._lost_to_full_disk += len(batch)
            except StoreError as exc:
                # A lock held too long loses this batch, not every later one.
                log.warning("could not record %d event(s): %s", len(batch), exc)
            if done:
                return

    async def _write(self, batch: list[Event]) -> None:
        rows = [(e.kind, e.details(), e.timestamp) for e in batch]
        for pause in BUSY_RETRY_PAUSES_S:
            try:
                await self._store.record_events(rows)
                return
            except StoreBusy:
                await asyncio.sleep(pause)
        await self._store.record_events(rows)

    async def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.dispose()
        if self._task is not None:
            self._queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._lost_to_full_disk and not self._store.full_said:
            lost, self._lost_to_full_disk = self._lost_to_full_disk, 0
            log.warning(
                "could not record %d event(s): the disk under %s is full", lost, self._store.path
            )
            self._store.full_said = True

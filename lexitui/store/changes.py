"""Tells the bus which store tables were written, by this process or any other one.

``lexitui serve`` and other lexitui instances write to the same SQLite file, and SQLite has no
cross-process notification. SQLite triggers bump a version per shown table in the tiny
``table_versions`` table (``migrations.WATCHED_TABLES``); this watcher reads those few numbers
every ``interval_s`` and publishes one ``StoreChanged`` naming the tables whose version moved,
and nothing while none did. Screens listen to that instead of re-reading their tables on a timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from lexitui.events import EventBus, StoreChanged
from lexitui.store.database import Store, StoreError

log = logging.getLogger(__name__)

INTERVAL_S = 0.25  # a change shows on screen well within a second of its commit


class StoreChangeWatcher:
    def __init__(self, store: Store, bus: EventBus, interval_s: float = INTERVAL_S) -> None:
        self._store = store
        self._bus = bus
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._seen: dict[str, int] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Watch from now on (on the running loop); a second call does nothing."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._watch())

    async def check(self) -> frozenset[str]:
        """Read the versions once; publish and return the tables that moved since the last read
        (none on the first read: it is where watching starts)."""
        versions = await self._store.table_versions()
        seen, self._seen = self._seen, versions
        if seen is None:
            return frozenset()
        # "Moved", not "grew": a write rolled back after it was seen moves the version back.
        moved = frozenset(
            name for name in seen.keys() | versions.keys() if seen.get(name) != versions.get(name)
        )
        if moved:
            self._bus.publish(StoreChanged(tables=moved))
        return moved

    async def _watch(self) -> None:
        failing = False
        while True:
            try:
                await self.check()
                failing = False
            except StoreError as exc:  # a busy or broken file: said once, tried again later
                if not failing:
                    log.warning("watching the store for changes: %s", exc)
                failing = True
            await asyncio.sleep(self._interval_s)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

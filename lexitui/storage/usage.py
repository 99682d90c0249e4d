"""Counting how much each model is used, from the runtime's load and unload events.

A load counts one use and stamps "last used"; the time until its unload (or until lexitui stops
with it still loaded) adds to the total. Writes go to the store from a task on the loop the
tracker started on, whichever thread published the event. Usage is bookkeeping: a failed write
is dropped rather than disturbing the runtime that published the event.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from reactivex.abc import DisposableBase

from lexitui.events import Event, EventBus, ModelLoaded, ModelUnloaded
from lexitui.storage.rows import StorageRows
from lexitui.store import StoreError


def _now() -> datetime:
    return datetime.now(UTC)


class UsageTracker:
    def __init__(
        self,
        rows: StorageRows,
        bus: EventBus,
        *,
        clock: Callable[[], datetime] = _now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rows = rows
        self._bus = bus
        self._clock = clock
        self._monotonic = monotonic
        self._loaded: dict[str, float] = {}
        self._mutex = threading.Lock()
        self._pending: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscription: DisposableBase | None = None

    @property
    def loaded(self) -> set[str]:
        """Ids of models loaded right now, as the events tell."""
        with self._mutex:
            return set(self._loaded)

    def start(self) -> None:
        """Listen from now on (again after ``stop``); a second call does nothing."""
        if self._subscription is None:
            self._loop = asyncio.get_running_loop()
            self._subscription = self._bus.inference.subscribe(self._on_event)

    async def stop(self) -> None:
        """Stop listening; a model still loaded gets its time so far; pending writes finish."""
        if self._subscription is not None:
            self._subscription.dispose()
            self._subscription = None
        with self._mutex:
            still = list(self._loaded.items())
            self._loaded.clear()
        for model_id, since in still:
            self._write(self._rows.record_time(model_id, self._monotonic() - since, self._clock()))
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, ModelLoaded):
            with self._mutex:
                self._loaded[event.model_id] = self._monotonic()
            self._write(self._rows.record_load(event.model_id, self._clock()))
        elif isinstance(event, ModelUnloaded):
            with self._mutex:
                since = self._loaded.pop(event.model_id, None)
            if since is not None:
                elapsed = self._monotonic() - since
                self._write(self._rows.record_time(event.model_id, elapsed, self._clock()))

    def _write(self, work: Coroutine[Any, Any, None]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            work.close()
            return
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if not on_loop:  # published from a worker thread: hop onto the loop first
            loop.call_soon_threadsafe(self._write, work)
            return
        task = loop.create_task(_quietly(work))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)


async def _quietly(work: Coroutine[Any, Any, None]) -> None:
    with contextlib.suppress(StoreError, sqlite3.Error, ValueError):
        await work

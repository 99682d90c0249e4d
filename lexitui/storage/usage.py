"""Counting how much each model is used, from the runtime's load and unload events.

A load counts one use and stamps "last used"; the time until its unload (or until lexitui stops
with it still loaded) adds to the total. Writes go to the store from a task on the loop the
tracker started on, whichever thread published the event. Usage is bookkeeping: a failed write
is dropped rather than disturbing the runtime that published the event. Each write that changed a
row is followed by ``ModelUsageRecorded`` once it has committed: a reader waits for that, not for
a guess at how long the write takes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from reactivex.abc import DisposableBase

from lexitui.events import Event, EventBus, ModelLoaded, ModelUnloaded, ModelUsageRecorded
from lexitui.store.loop_writes import LoopWrites
from lexitui.store.model_rows import StorageRows


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
        # Usage is bookkeeping: a failed write is dropped, the next event writes again.
        self._writes = LoopWrites(on_error=lambda _exc: None)
        self._subscription: DisposableBase | None = None

    @property
    def loaded(self) -> set[str]:
        """Ids of models loaded right now, as the events tell."""
        with self._mutex:
            return set(self._loaded)

    def start(self) -> None:
        """Listen from now on (again after ``stop``); a second call does nothing."""
        if self._subscription is None:
            self._writes.bind()
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
            self._writes.submit(
                self._record_time(model_id, self._monotonic() - since, self._clock())
            )
        await self._writes.drain()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, ModelLoaded):
            with self._mutex:
                self._loaded[event.model_id] = self._monotonic()
            self._writes.submit(self._record_load(event.model_id, self._clock()))
        elif isinstance(event, ModelUnloaded):
            with self._mutex:
                since = self._loaded.pop(event.model_id, None)
            if since is not None:
                elapsed = self._monotonic() - since
                self._writes.submit(self._record_time(event.model_id, elapsed, self._clock()))

    # Each write says so on the bus once it has committed and changed a row.

    async def _record_load(self, model_id: str, at: datetime) -> None:
        if await self._rows.record_load(model_id, at):
            self._bus.publish(ModelUsageRecorded(model_id=model_id))

    async def _record_time(self, model_id: str, seconds: float, at: datetime) -> None:
        if await self._rows.record_time(model_id, seconds, at):
            self._bus.publish(ModelUsageRecorded(model_id=model_id))

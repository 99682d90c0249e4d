"""``HealthMonitor``: checks every backend on an interval and reports changes of status.

One task per backend, so a hanging backend never delays the others; each check is bounded (the
backend's own HTTP timeout, plus a guard here). While a backend is down its checks back off
exponentially up to a cap, so an uninstalled LM Studio costs nothing; recovery is still quick
because anything that learns a backend is back (a push from a real request, the managed engine
starting, ``poke()``) triggers a check at once and resets the backoff. Every result goes out on
``checks`` (latency for the screen); only transitions reach the event bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reactivex import Observable
from reactivex.abc import DisposableBase
from reactivex.subject import Subject

from lexitui.backends.base import InferenceBackend
from lexitui.backends.errors import BackendError, clean_text
from lexitui.backends.status import StatusTracker
from lexitui.domain.backends import BackendHealth
from lexitui.domain.enums import BackendStatus
from lexitui.events import BackendStatusChanged, Event, EventBus

log = logging.getLogger(__name__)
DEFAULT_INTERVAL = 5.0
DEFAULT_MAX_BACKOFF = 30.0
STARTING_POLL = 0.5  # a loading model: look again soon, it will be ready in a moment
UP = (BackendStatus.RUNNING, BackendStatus.STARTING)


@dataclass(frozen=True)
class HealthCheck:
    name: str
    health: BackendHealth


class HealthMonitor:
    def __init__(
        self,
        tracker: StatusTracker,
        backends: Callable[[], Sequence[InferenceBackend]],
        *,
        bus: EventBus | None = None,
        interval: float = DEFAULT_INTERVAL,
        max_backoff: float = DEFAULT_MAX_BACKOFF,
        check_timeout: float = 5.0,
    ) -> None:
        self._tracker = tracker
        self._backends = backends
        self._bus = bus
        self.interval = interval
        self.max_backoff = max(max_backoff, interval)
        self.check_timeout = check_timeout
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wake: dict[str, asyncio.Event] = {}
        self._checking: set[str] = set()
        self._checks: Subject[HealthCheck] = Subject()
        self._subscription: DisposableBase | None = None

    @property
    def checks(self) -> Observable[HealthCheck]:
        return self._checks

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    def backoff(self, failures: int) -> float:
        """Delay before the next check after ``failures`` down checks in a row."""
        if failures <= 0:
            return self.interval
        return float(min(self.interval * 2 ** (failures - 1), self.max_backoff))

    async def check(self, backend: InferenceBackend) -> BackendHealth:
        """One bounded check; the result is recorded, published if it changed, and returned."""
        self._checking.add(backend.name)
        try:
            async with asyncio.timeout(self.check_timeout):
                health = await backend.check_health()
        except TimeoutError:
            health = BackendHealth(
                BackendStatus.ERROR, message=f"no answer within {self.check_timeout:g} s"
            )
        except BackendError as exc:
            health = BackendHealth(BackendStatus.ERROR, message=exc.detail)
        except Exception as exc:  # a bug in one backend must not stop the monitor
            log.exception("health check of %s failed", backend.name)
            health = BackendHealth(BackendStatus.ERROR, message=clean_text(f"check failed: {exc}"))
        finally:
            self._checking.discard(backend.name)
        self._tracker.observe(backend, health)
        self._checks.on_next(HealthCheck(backend.name, health))
        return health

    async def check_all(self) -> dict[str, BackendHealth]:
        backends = list(self._backends())
        results = await asyncio.gather(*(self.check(b) for b in backends))
        return {b.name: h for b, h in zip(backends, results, strict=True)}

    def start(self) -> None:
        if self._bus is not None and self._subscription is None:
            self._subscription = self._bus.backends.subscribe(self._on_event)
        self.sync()

    def sync(self) -> None:
        """Follow the current set of backends (after one was added or removed)."""
        backends = {b.name: b for b in self._backends()}
        for name in list(self._tasks):
            if name not in backends:
                self._tasks.pop(name).cancel()
                self._wake.pop(name, None)
        loop = asyncio.get_running_loop()
        for name, backend in backends.items():
            if name not in self._tasks:
                self._wake[name] = asyncio.Event()
                self._tasks[name] = loop.create_task(self._watch(backend, self._wake[name]))

    def poke(self, name: str | None = None) -> None:
        """Check now (one backend, or all) instead of waiting for the next interval."""
        for key, event in self._wake.items():
            if name is None or key == name:
                event.set()

    def _on_event(self, event: Event) -> None:
        # Something other than our own check saw a backend come back: confirm and reset backoff.
        if (
            isinstance(event, BackendStatusChanged)
            and event.new in UP
            and event.old not in UP
            and event.name not in self._checking
        ):
            self.poke(event.name)

    async def _watch(self, backend: InferenceBackend, wake: asyncio.Event) -> None:
        failures = 0
        while True:
            wake.clear()
            health = await self.check(backend)
            if health.status is BackendStatus.RUNNING:
                failures, delay = 0, self.interval
            elif health.status is BackendStatus.STARTING:
                failures, delay = 0, min(self.interval, STARTING_POLL)
            else:
                failures += 1
                delay = self.backoff(failures)
            # asyncio.timeout, not wait_for: on 3.11 a wait_for cancelled while its timeout
            # fires can leave the task stuck "cancelling", and stop() would never return.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await wake.wait()

    async def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.dispose()
            self._subscription = None
        tasks = list(self._tasks.values())
        self._tasks.clear()
        self._wake.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

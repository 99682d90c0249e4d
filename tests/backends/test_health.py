"""HealthMonitor: transitions only, with reasons; backoff while down; quick recovery; a hanging
backend never holds up the others. Real servers on loopback, short intervals.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable

import pytest

from lexitui.backends.base import InferenceBackend
from lexitui.backends.health import HealthCheck, HealthMonitor
from lexitui.backends.openai_compat import CustomBackend
from lexitui.backends.status import StatusTracker
from lexitui.domain.enums import BackendStatus
from lexitui.events import BackendStatusChanged, Event, EventBus
from tests.backends.servers import Request, ScriptedServer, hang, send


async def healthy(request: Request, writer: asyncio.StreamWriter) -> None:
    await send(writer, 200, {"object": "list", "data": [{"id": "m"}]})


class Harness:
    def __init__(self, backends: list[InferenceBackend], **kwargs: float) -> None:
        self.bus = EventBus()
        self.events: list[BackendStatusChanged] = []
        self.checks: list[tuple[float, HealthCheck]] = []
        self.bus.backends.subscribe(self._event)
        self.tracker = StatusTracker(self.bus)
        for backend in backends:
            backend.health_pushes.subscribe(
                lambda h, b=backend: self.tracker.observe(b, h)  # type: ignore[misc]
            )
        self.monitor = HealthMonitor(self.tracker, lambda: backends, bus=self.bus, **kwargs)
        self.monitor.checks.subscribe(lambda c: self.checks.append((time.monotonic(), c)))

    def _event(self, event: Event) -> None:
        assert isinstance(event, BackendStatusChanged)
        self.events.append(event)

    def changes(self, name: str) -> list[tuple[BackendStatus, BackendStatus]]:
        return [(e.old, e.new) for e in self.events if e.name == name]

    async def until(self, condition: Callable[[], bool], limit: float = 5.0) -> None:
        started = time.monotonic()
        while not condition():
            assert time.monotonic() - started < limit, self.events
            await asyncio.sleep(0.01)


async def test_up_down_up_publishes_only_transitions_and_backs_off() -> None:
    server = ScriptedServer(healthy)
    await server.start()
    backend = CustomBackend("box", server.url, timeout=0.5)
    harness = Harness([backend], interval=0.05, max_backoff=0.4)
    harness.monitor.start()
    try:
        await harness.until(lambda: len(harness.checks) >= 5)
        assert harness.changes("box") == [(BackendStatus.UNKNOWN, BackendStatus.RUNNING)]

        port = server.port
        await server.stop()
        await harness.until(lambda: len(harness.changes("box")) == 2)
        down = harness.events[-1]
        assert down.new is BackendStatus.STOPPED
        assert down.message == f"not found at 127.0.0.1:{port} (connection refused)"

        went_down = len(harness.checks)
        await harness.until(lambda: len(harness.checks) >= went_down + 5, limit=5)
        times = [t for t, _ in harness.checks[went_down - 1 :]]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        # interval, 2x, 4x, then the cap: each gap at least as long as the one before.
        assert gaps[0] < 0.2 and gaps[-1] >= 0.3
        assert all(b >= a * 0.8 for a, b in itertools.pairwise(gaps)), gaps
        assert max(gaps) < 0.6, "the cap holds"
        assert len(harness.changes("box")) == 2, "no event while it stays down"

        await server.start(port)
        await harness.until(lambda: len(harness.changes("box")) == 3, limit=2)
        assert harness.events[-1].new is BackendStatus.RUNNING
    finally:
        await harness.monitor.stop()
        await server.stop()
        await backend.aclose()


async def test_a_real_request_brings_a_backed_off_backend_back_at_once() -> None:
    server = ScriptedServer(healthy)
    await server.start()
    port = server.port
    await server.stop()
    backend = CustomBackend("box", f"http://127.0.0.1:{port}")
    harness = Harness([backend], interval=0.05, max_backoff=30)
    harness.monitor.start()
    try:
        await harness.until(lambda: len(harness.checks) >= 6)  # backoff is now over a second
        await server.start(port)
        started = time.monotonic()
        await backend.list_models()  # the user tried it: that request shows it is back
        assert harness.events[-1].new is BackendStatus.RUNNING
        checks_before = len(harness.checks)
        await harness.until(lambda: len(harness.checks) > checks_before, limit=1)
        assert time.monotonic() - started < 0.5, "the monitor re-checked at once"
        await harness.until(lambda: len(harness.checks) > checks_before + 3, limit=1)
    finally:
        await harness.monitor.stop()
        await server.stop()
        await backend.aclose()


async def test_a_hanging_backend_is_an_error_and_never_delays_the_others() -> None:
    async with ScriptedServer(hang) as stuck, ScriptedServer(healthy) as fine:
        slow = CustomBackend("stuck", stuck.url, timeout=0.3)
        fast = CustomBackend("fine", fine.url, timeout=0.3)
        harness = Harness([slow, fast], interval=0.05, max_backoff=1)
        harness.monitor.start()
        try:
            await harness.until(lambda: bool(harness.changes("stuck")), limit=2)
            # While "stuck" waits out its timeout, "fine" keeps being checked every 50 ms.
            fine_checks = [t for t, c in harness.checks if c.health.up]
            assert len(fine_checks) >= 4
            assert harness.changes("stuck") == [(BackendStatus.UNKNOWN, BackendStatus.ERROR)]
            assert harness.events[-1].message in (
                "no answer within 0.3 s",
                "not answering (no answer within 0.3 s)",
            )
            latest = harness.tracker.latest("fine")
            assert latest is not None and latest.latency_ms is not None
        finally:
            await harness.monitor.stop()
            await slow.aclose()
            await fast.aclose()


async def test_the_guard_bounds_a_check_that_ignores_its_own_timeout() -> None:
    class Stuck(CustomBackend):
        async def check_health(self):  # type: ignore[no-untyped-def]
            await asyncio.sleep(3600)

    backend = Stuck("stuck", "http://127.0.0.1:9")
    harness = Harness([backend], check_timeout=0.1)
    health = await harness.monitor.check(backend)
    assert (health.status, health.message) == (BackendStatus.ERROR, "no answer within 0.1 s")


def test_backoff_doubles_up_to_the_cap() -> None:
    monitor = HealthMonitor(StatusTracker(EventBus()), list, interval=5, max_backoff=30)
    assert [monitor.backoff(n) for n in range(6)] == [5, 5, 10, 20, 30, 30]


@pytest.mark.parametrize("interval", [0.0, -1.0])
def test_cap_is_never_below_the_interval(interval: float) -> None:
    monitor = HealthMonitor(StatusTracker(EventBus()), list, interval=2, max_backoff=interval)
    assert monitor.backoff(10) == 2

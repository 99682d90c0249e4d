"""The last known health of every backend, and a status event for each *change* of it.

Health checks and pushes from backends (a refused request, a crashed engine) both land here;
only a transition publishes ``BackendStatusChanged`` on the bus, with the reason, so a steady
backend is silent however often it is checked.
"""

from __future__ import annotations

from typing import TypeVar

from lexitui.backends.base import InferenceBackend
from lexitui.domain.backends import BackendHealth
from lexitui.domain.enums import BackendStatus
from lexitui.events import BackendStatusChanged, EventBus

_T = TypeVar("_T")


class StatusTracker:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._latest: dict[str, BackendHealth] = {}

    def latest(self, name: str) -> BackendHealth | None:
        return self._latest.get(name)

    def status(self, name: str) -> BackendStatus:
        health = self._latest.get(name)
        return health.status if health else BackendStatus.UNKNOWN

    def observe(self, backend: InferenceBackend, health: BackendHealth) -> bool:
        """Record ``health``; returns True (and publishes) when the status changed."""
        old = self.status(backend.name)
        previous = self._latest.get(backend.name)
        if previous is not None and old is health.status:
            # A push from an ordinary request carries less than a health check: keep what the
            # last check said (its message, queue figures) unless this one says more.
            health = BackendHealth(
                status=health.status,
                latency_ms=_first(health.latency_ms, previous.latency_ms),
                message=health.message or previous.message,
                checked_at=health.checked_at,
                running_requests=_first(health.running_requests, previous.running_requests),
                waiting_requests=_first(health.waiting_requests, previous.waiting_requests),
                kv_cache_usage=_first(health.kv_cache_usage, previous.kv_cache_usage),
            )
        self._latest[backend.name] = health
        if old is health.status:
            return False
        self._bus.publish(
            BackendStatusChanged(
                backend=backend.type,
                name=backend.name,
                old=old,
                new=health.status,
                message=health.message,
            )
        )
        return True

    def forget(self, name: str) -> None:
        self._latest.pop(name, None)


def _first(value: _T | None, fallback: _T | None) -> _T | None:
    return value if value is not None else fallback

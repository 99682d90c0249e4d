"""Providers that keep failing are skipped for a while.

After ``allowed_fails`` failures in a row a provider cools down; when the cooldown ends one
request probes it (others keep skipping it while the probe is out); a failing probe doubles the
cooldown up to ``max_cooldown``, a success forgets everything. A rate limit cools a provider down
for as long as it asked (``retry-after``). So an outage of a hundred requests sends at most
``allowed_fails + 1`` of them to the dead provider.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from lexitui.domain.routing import FallbackConfig


@dataclass
class _State:
    failures: int = 0
    until: float = 0.0
    cooldown_s: float = 0.0
    probing: bool = False
    in_flight: int = 0


class Cooldowns:
    def __init__(self, config: FallbackConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self._states: dict[str, _State] = {}

    def blocked(self, provider_id: str) -> str | None:
        """Why ``provider_id`` must be skipped now, or None when a request may go to it."""
        state = self._states.get(provider_id)
        if state is None:
            return None
        left = state.until - self._clock()
        if left > 0:
            return f"cooling down for {left:.0f} s after {state.failures} failures"
        if state.probing:
            return "a probe request is testing it after its cooldown"
        allowed = self.config.allowed_fails
        if 0 < state.failures < allowed and state.failures + state.in_flight >= allowed:
            # Failing already: requests under way will tell whether it is down; no more now.
            return f"{state.failures} failures and {state.in_flight} requests under way"
        return None

    def begin(self, provider_id: str) -> None:
        """A request is being sent; after a cooldown it is the one probe."""
        state = self._states.get(provider_id)
        if state is None:
            return
        state.in_flight += 1
        if state.failures >= self.config.allowed_fails:
            state.probing = True

    def success(self, provider_id: str) -> None:
        self._states.pop(provider_id, None)

    def failure(self, provider_id: str, *, retry_after_s: float | None = None) -> None:
        state = self._states.setdefault(provider_id, _State())
        state.in_flight = max(0, state.in_flight - 1)
        state.failures += 1
        now = self._clock()
        if retry_after_s is not None and retry_after_s > 0:
            state.until = max(state.until, now + retry_after_s)
        if state.failures >= self.config.allowed_fails:
            base = self.config.cooldown.total_seconds()
            limit = self.config.max_cooldown.total_seconds()
            state.cooldown_s = min(limit, state.cooldown_s * 2) if state.probing else base
            state.until = max(state.until, now + state.cooldown_s)
        state.probing = False

    def release(self, provider_id: str) -> None:
        """An attempt ended without a verdict on the provider (the request was bad)."""
        state = self._states.get(provider_id)
        if state is not None:
            state.probing = False
            state.in_flight = max(0, state.in_flight - 1)

    def snapshot(self) -> dict[str, str]:
        """Providers skipped now and why, for the Routing screen and ``lexitui providers``."""
        out = {}
        for provider_id in self._states:
            why = self.blocked(provider_id)
            if why:
                out[provider_id] = why
        return out

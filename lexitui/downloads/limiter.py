"""A shared bandwidth cap: every connection of every download draws from one token bucket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class RateLimiter:
    """At most ``rate`` bytes per second on average, with up to a quarter second of burst."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("the rate limit must be positive")
        self.rate = rate
        self._clock = clock
        self._burst = rate / 4
        self._tokens = self._burst
        self._stamp = clock()
        self._lock = asyncio.Lock()

    async def take(self, amount: int) -> None:
        """Wait until ``amount`` bytes may pass (callers take after each read)."""
        async with self._lock:  # first come, first served: no connection starves the others
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= amount
            if self._tokens < 0:
                await asyncio.sleep(-self._tokens / self.rate)

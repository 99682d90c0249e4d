"""Speed and time left for one download, from how many bytes are on disk over time.

The tracker is polled (the manager's ticker asks a few times a second), so the event rate is
bounded however fast bytes arrive. Speed is measured over a sliding window of a few seconds:
long enough to smooth out chunk boundaries, short enough to follow a changed link speed.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 3.0


class SpeedMeter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._samples: deque[tuple[float, int]] = deque()

    def sample(self, done: int) -> int:
        """Record ``done`` bytes now; returns bytes per second over the window."""
        now = self._clock()
        if self._samples and done < self._samples[-1][1]:
            self._samples.clear()  # the partial was emptied (a changed file): measure anew
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > WINDOW_S:
            self._samples.popleft()
        first_t, first_done = self._samples[0]
        elapsed = now - first_t
        return int((done - first_done) / elapsed) if elapsed > 0 else 0


def eta_seconds(done: int, total: int, speed: int) -> float | None:
    if total <= 0 or speed <= 0 or done >= total:
        return None if done < total else 0.0
    return round((total - done) / speed, 1)

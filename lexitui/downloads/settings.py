"""How the download manager runs: concurrency, rate cap, progress rate, retries, timeouts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ManagerSettings:
    max_concurrent_downloads: int = 2
    rate_limit_bytes_per_s: int | None = None  # all downloads together; None: no cap
    progress_interval_s: float = 0.25  # at most 4 progress events a second per download
    retry_backoff_s: float = 2.0  # before the first automatic retry; doubles after
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0  # no byte for this long: the chunk stalled (D6)
    chunk_retries: int = 5
    chunk_retry_delay_s: float = 0.5
    checkpoint_interval_s: float = 0.5


DEFAULT_SETTINGS = ManagerSettings()

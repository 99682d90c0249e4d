"""Keeps the hardware monitor's samples in the store, for charts that outlive a restart.

One row per metric per sample, written in one transaction. Retention is bounded by age: every
``PRUNE_EVERY`` samples, rows older than ``retention`` are deleted, so the table stays small on a
server that runs lexitui for months.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lexitui.domain.samples import HardwareSample, gpu_metric
from lexitui.store.database import Store

PRUNE_EVERY = 150
DEFAULT_RETENTION = timedelta(hours=24)


def sample_rows(sample: HardwareSample) -> list[tuple[str, float]]:
    """(metric, value) pairs, named the way ``HardwareMonitor.history`` names them."""
    rows = [
        ("cpu_percent", sample.cpu_percent),
        ("ram_used_percent", 100.0 - sample.ram_available_percent),
    ]
    for gpu in sample.gpus:
        free = gpu.vram_free_percent
        values = {
            "utilization_percent": gpu.utilization_percent,
            "vram_used_percent": None if free is None else 100.0 - free,
            "temperature_c": gpu.temperature_c,
            "power_watts": gpu.power_watts,
        }
        rows += [(gpu_metric(gpu.id, k), v) for k, v in values.items() if v is not None]
    return rows


class HardwareHistory:
    def __init__(self, store: Store, retention: timedelta = DEFAULT_RETENTION) -> None:
        self._store = store
        self.retention = retention
        self._since_prune = 0

    async def record(self, sample: HardwareSample) -> None:
        ts = sample.timestamp.astimezone(UTC).isoformat()
        async with self._store.write() as conn:
            await conn.executemany(
                "INSERT INTO hardware_samples (ts, metric, value) VALUES (?, ?, ?)",
                [(ts, metric, value) for metric, value in sample_rows(sample)],
            )
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY:
            await self.prune()

    async def prune(self, now: datetime | None = None) -> int:
        cutoff = ((now or datetime.now(UTC)) - self.retention).astimezone(UTC).isoformat()
        self._since_prune = 0
        async with self._store.write() as conn:
            cursor = await conn.execute("DELETE FROM hardware_samples WHERE ts < ?", (cutoff,))
            return cursor.rowcount

    async def recent(self, metric: str, limit: int = 300) -> list[float]:
        """The last ``limit`` values of one metric, oldest first."""
        rows = await self._store.fetch_all(
            "SELECT value FROM hardware_samples WHERE metric = ? ORDER BY ts DESC LIMIT ?",
            (metric, limit),
        )
        return [float(r[0]) for r in reversed(rows)]

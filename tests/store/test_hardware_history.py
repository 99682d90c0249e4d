"""Hardware samples are kept in the store with bounded retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from lexitui.domain.samples import GpuSample, HardwareSample, gpu_metric
from lexitui.store import Store
from lexitui.store.hardware_history import PRUNE_EVERY, HardwareHistory

GIB = 1024**3


def sample(at: datetime, cpu: float, util: float | None = 50.0) -> HardwareSample:
    gpu = GpuSample("nvidia:0", "H100", 80 * GIB, 20 * GIB, util, 61.0, 300.0)
    return HardwareSample(at, cpu, 64 * GIB, 16 * GIB, (gpu,))


async def test_samples_are_stored_per_metric(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    await store.open()
    try:
        history = HardwareHistory(store)
        now = datetime.now(UTC)
        for i in range(3):
            await history.record(sample(now + timedelta(seconds=i), cpu=10.0 * i))
        assert await history.recent("cpu_percent") == [0.0, 10.0, 20.0]
        assert await history.recent("ram_used_percent") == [75.0, 75.0, 75.0]
        assert await history.recent(gpu_metric("nvidia:0", "vram_used_percent")) == [75.0] * 3
        assert await history.recent(gpu_metric("nvidia:0", "power_watts"), limit=2) == [300, 300]
    finally:
        await store.close()


async def test_missing_readings_are_not_stored_as_zero(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    await store.open()
    try:
        history = HardwareHistory(store)
        await history.record(sample(datetime.now(UTC), cpu=5.0, util=None))
        assert await history.recent(gpu_metric("nvidia:0", "utilization_percent")) == []
    finally:
        await store.close()


async def test_old_samples_are_pruned_automatically(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    await store.open()
    try:
        history = HardwareHistory(store, retention=timedelta(hours=1))
        old = datetime.now(UTC) - timedelta(hours=3)
        await history.record(sample(old, cpu=99.0))
        now = datetime.now(UTC)
        for i in range(PRUNE_EVERY - 1):  # the PRUNE_EVERY-th record triggers the prune
            await history.record(sample(now + timedelta(milliseconds=i), cpu=1.0))
        values = await history.recent("cpu_percent", limit=10_000)
        assert 99.0 not in values
        assert len(values) == PRUNE_EVERY - 1
    finally:
        await store.close()

"""Usage from the runtime's events, and what the store takes on disk."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from lexitui.events import Event, ModelLoaded, ModelUnloaded
from lexitui.services import Services
from lexitui.storage.disk import DiskUsage
from lexitui.storage.library_roots import LibraryRoots
from lexitui.storage.manager import MIN_FREE_BYTES, StorageManager
from lexitui.storage.usage import UsageTracker
from tests.storage.conftest import DISK, Clock, build_manager
from tests.storage.layouts import add_to_hf_cache


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_loads_count_uses_and_time(
    services: Services, roots: LibraryRoots, clock: Clock, tiny: Path
) -> None:
    await services.usage.stop()  # the app's own tracker: only this test's tracker counts
    manager = build_manager(services, roots, clock)
    model = await manager.import_model(tiny)
    ticks = Ticks()
    tracker = UsageTracker(manager.rows, manager.bus, clock=manager.now, monotonic=ticks)
    tracker.start()
    bus = manager.bus

    bus.publish(ModelLoaded(model_id=model.id, backend="test", load_seconds=0.4))
    ticks.now += 90
    bus.publish(ModelUnloaded(model_id=model.id, reason="unloaded by user"))
    bus.publish(ModelLoaded(model_id=model.id, backend="test", load_seconds=0.4))
    ticks.now += 30
    await tracker.stop()  # still loaded at shutdown: the time so far counts
    await asyncio.sleep(0)

    used = await manager.installed_model(model.id)
    assert used.use_count == 2
    assert used.total_usage_seconds == 120
    assert used.last_used_at is not None
    assert tracker.loaded == set()


async def test_each_usage_write_is_announced_once_written(
    services: Services, roots: LibraryRoots, clock: Clock, tiny: Path
) -> None:
    await services.usage.stop()  # the app's own tracker: only this test's tracker counts
    manager = build_manager(services, roots, clock)
    model = await manager.import_model(tiny)
    tracker = UsageTracker(manager.rows, manager.bus, clock=manager.now)
    tracker.start()
    announced: list[Event] = []
    manager.bus.storage.subscribe(announced.append)

    manager.bus.publish(ModelLoaded(model_id=model.id, backend="test", load_seconds=0.4))
    manager.bus.publish(ModelLoaded(model_id="not-installed", backend="test", load_seconds=0.4))
    assert announced == []  # the writes run as tasks: nothing is announced before them
    await tracker.stop()

    # The load, then its time at shutdown; nothing for a model that is not installed.
    assert [(e.kind, getattr(e, "model_id", "")) for e in announced] == [
        ("ModelUsageRecorded", model.id),
        ("ModelUsageRecorded", model.id),
    ]
    assert (await manager.installed_model(model.id)).use_count == 1


async def test_storage_info_counts_each_file_once(
    manager: StorageManager, tmp_path: Path, tiny: Path
) -> None:
    await manager.import_model(tiny)  # a blob and its hard link: one file
    add_to_hf_cache(tmp_path / "hf", "acme/t-GGUF", "t.Q8_0.gguf", tiny)
    await manager.sync_library()
    layout = manager.layout
    partial = layout.downloads_dir / "0123456789abcdef.partial"
    with open(partial, "wb") as handle:
        handle.write(b"p" * 8192)
    (layout.temp_dir / "scratch").write_bytes(b"t" * 100)

    info = await manager.storage_info()

    assert info.storage_path == str(layout.root)
    assert info.used_by_models_bytes == tiny.stat().st_size
    assert info.used_by_downloads_bytes == os.stat(partial).st_blocks * 512
    assert info.used_by_temp_bytes == 100
    assert info.installed_model_count == 3  # the starter, the import, the HF cache model
    assert info.shared_model_count == 2
    assert (info.total_disk_bytes, info.free_disk_bytes) == (DISK.total, DISK.free)
    assert not info.is_low_on_space and info.recommended_free_bytes == MIN_FREE_BYTES


async def test_low_space_is_flagged(services: Services, roots: LibraryRoots, clock: Clock) -> None:
    full = DiskUsage(total=100 * 10**9, used=97 * 10**9, free=3 * 10**9)
    manager = build_manager(services, roots, clock, disk_usage=lambda _p: full)

    info = await manager.storage_info()

    assert info.is_low_on_space and info.free_disk_bytes == 3 * 10**9

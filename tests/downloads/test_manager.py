"""The manager's queue: cancel, retry, concurrency, bandwidth cap, progress rate, history, and
picking up after a restart."""

from __future__ import annotations

import time
from dataclasses import replace
from itertools import pairwise

from lexitui.config import Paths
from lexitui.domain.enums import DownloadStatus
from lexitui.downloads.manager import DownloadManager
from lexitui.downloads.records import DownloadProgressEvent
from lexitui.events import Event, ModelDownloadCompleted
from lexitui.services import Services
from tests.downloads.conftest import (
    SMALL,
    TINY,
    cdn_gets,
    fetch,
    make_manager,
    partials,
    pick,
    requested_bytes,
)
from tests.fakes.hub_server import FakeHub
from tests.waiting import until

SIZE = 1792
F16_SIZE = 2 * 2848


async def running(manager: DownloadManager, services: Services, hub: FakeHub, rate: int) -> str:
    hub.faults.rate = rate
    model, variant = await pick(services, TINY, "Q8_0")
    started = await manager.start_download(model, variant, SMALL)

    def receiving() -> bool:
        job = manager.job(started.id)
        return job is not None and job.downloaded_bytes() > 0

    await until(receiving, seconds=60)
    return started.id


async def test_cancel_stops_the_download_and_deletes_its_partial(
    manager: DownloadManager, services: Services, hub: FakeHub, paths: Paths
) -> None:
    seen: list[Event] = []
    services.bus.downloads.subscribe(seen.append)
    # Slow enough (about 6 s for the file) that a busy machine cannot finish it first.
    download_id = await running(manager, services, hub, 300)
    cancelled = await manager.cancel_download(download_id)
    assert cancelled.status is DownloadStatus.CANCELLED
    assert partials(paths.models_dir) == []
    done = [e for e in seen if isinstance(e, ModelDownloadCompleted)]
    assert [(e.success, e.error) for e in done] == [(False, "cancelled")]
    assert (await manager.get_history())[0].id == download_id
    assert await manager.get_downloads() == []


async def test_a_failed_download_can_be_retried(
    manager: DownloadManager, services: Services, hub: FakeHub
) -> None:
    hub.faults.corrupt_offset = 10
    failed = await fetch(manager, services)
    assert failed.status is DownloadStatus.FAILED
    hub.faults.corrupt_offset = None
    await manager.retry_download(failed.id)
    done = await manager.wait(failed.id)
    assert done.status is DownloadStatus.COMPLETED, done.error
    assert done.error is None


async def test_downloads_beyond_the_limit_wait_their_turn(services: Services, hub: FakeHub) -> None:
    manager = make_manager(services, max_concurrent_downloads=1)
    try:
        hub.faults.rate = 20_000
        started = []
        for variant_id in ("Q8_0", "F16"):
            model, variant = await pick(services, TINY, variant_id)
            started.append(await manager.start_download(model, variant, SMALL))
        waiting = await manager.get_downloads()
        assert [d.status for d in waiting if d.id == started[1].id] == [DownloadStatus.QUEUED]
        results = [await manager.wait(d.id) for d in started]
    finally:
        await manager.close()
    assert [r.status for r in results] == [DownloadStatus.COMPLETED] * 2
    q8 = hub.repos[TINY].file("tiny-random-llama-Q8_0.gguf")
    assert q8 is not None
    paths_in_order = [c.path for c in cdn_gets(hub)]
    last_q8 = max(i for i, p in enumerate(paths_in_order) if p.endswith(q8.sha256))
    first_other = min(i for i, p in enumerate(paths_in_order) if not p.endswith(q8.sha256))
    assert last_q8 < first_other


async def test_the_bandwidth_cap_holds_across_connections(services: Services, hub: FakeHub) -> None:
    manager = make_manager(services, rate_limit_bytes_per_s=8_000)
    try:
        began = time.monotonic()
        done = await fetch(manager, services, variant_id="F16")
        elapsed = time.monotonic() - began
    finally:
        await manager.close()
    assert done.status is DownloadStatus.COMPLETED, done.error
    assert elapsed >= (F16_SIZE - 2_000) / 8_000 * 0.9  # all but the first burst, paced


async def test_progress_is_rate_limited_and_carries_speed_and_eta(
    services: Services, hub: FakeHub
) -> None:
    manager = make_manager(services, progress_interval_s=0.25)
    events: list[DownloadProgressEvent] = []
    manager.progress.subscribe(events.append)
    try:
        hub.faults.rate = 1_200  # four connections: ~0.4 s a 512-byte chunk, ~1.5 s in all
        done = await fetch(manager, services, options=replace(SMALL, max_concurrent_connections=1))
    finally:
        await manager.close()
    assert done.status is DownloadStatus.COMPLETED, done.error
    ticks = [e for e in events if e.status is DownloadStatus.DOWNLOADING and not e.message]
    assert len(ticks) >= 3
    stamps = [e.timestamp.timestamp() for e in ticks]
    assert all(later - earlier >= 0.2 for earlier, later in pairwise(stamps))
    assert any(e.bytes_per_second > 0 and e.eta_seconds for e in ticks)
    assert events[-1].status is DownloadStatus.COMPLETED
    assert events[-1].downloaded_bytes == SIZE


async def test_a_restart_picks_up_a_running_download_where_it_was(
    services: Services, hub: FakeHub, paths: Paths
) -> None:
    first = make_manager(services)
    download_id = await running(first, services, hub, 1500)
    await first.close()  # the app quits mid-download
    row = await services.downloads.get(download_id)
    assert row is not None and row.status is DownloadStatus.QUEUED
    have = row.downloaded_bytes
    assert have > 0
    hub.faults.rate = None
    before = len(cdn_gets(hub))
    again = make_manager(services)
    try:
        await again.start()
        done = await again.wait(download_id)
    finally:
        await again.close()
    assert done.status is DownloadStatus.COMPLETED, done.error
    assert requested_bytes(cdn_gets(hub)[before:], SIZE) == SIZE - have

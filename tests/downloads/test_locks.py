"""Checklist D12 and D13 within one process: the partial's lock makes one writer, and cleanup
leaves a locked partial alone. (``test_pull_cli`` repeats both with real processes.)"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from lexitui.config import Paths
from lexitui.domain.enums import DownloadStatus
from lexitui.downloads.cleanup import cleanup_partials
from lexitui.downloads.layout import StoreLayout
from lexitui.downloads.lock import LockBusy, open_locked, release
from lexitui.downloads.manager import DownloadManager
from lexitui.files.host_lock import this_host
from lexitui.services import Services
from tests.downloads.conftest import (
    SMALL,
    TINY,
    cdn_gets,
    make_manager,
    pick,
    requested_bytes,
)
from tests.fakes.hub_server import FakeHub

SIZE = 1792


async def started_slowly(manager: DownloadManager, services: Services, hub: FakeHub) -> str:
    hub.faults.rate = 2000
    model, variant = await pick(services, TINY, "Q8_0")
    started = await manager.start_download(model, variant, SMALL)
    while (job := manager.job(started.id)) is None or job.downloaded_bytes() == 0:
        await asyncio.sleep(0.02)
    return started.id


def test_the_lock_admits_one_holder_and_follows_renames(tmp_path: Path) -> None:
    path = tmp_path / "x.partial"
    fd = open_locked(path)
    with pytest.raises(LockBusy):
        open_locked(path)
    os.rename(path, tmp_path / "moved")  # as when a finished partial becomes a blob
    second = open_locked(path)  # a new file at the path, not the moved one
    assert os.fstat(second).st_ino != os.fstat(fd).st_ino
    release(second)
    release(fd)


async def test_d12_a_second_instance_waits_for_the_first_and_fetches_nothing(
    manager: DownloadManager, services: Services, hub: FakeHub, paths: Paths
) -> None:
    first = await started_slowly(manager, services, hub)
    other_services = Services.build(paths)
    await other_services.start()
    other = make_manager(other_services)
    messages: list[str] = []
    other.progress.subscribe(lambda e: messages.append(e.message or ""))
    try:
        model, variant = await pick(other_services, TINY, "Q8_0")
        second = await other.start_download(model, variant, SMALL)
        assert second.id == first  # the store row is shared: the same download
        results = await asyncio.gather(other.wait(first), manager.wait(first))
    finally:
        await other.close()
        await other_services.stop()
    assert {r.status for r in results} == {DownloadStatus.COMPLETED}
    # The wait names who holds the model: this host, this test's process.
    assert any(f"being downloaded by {this_host()} (pid {os.getpid()})" in m for m in messages)
    assert requested_bytes(cdn_gets(hub), SIZE) == SIZE  # each byte fetched once


async def test_d13_cleanup_never_deletes_a_partial_being_written(
    manager: DownloadManager, services: Services, hub: FakeHub, paths: Paths
) -> None:
    download_id = await started_slowly(manager, services, hub)
    layout = StoreLayout(paths.models_dir)
    orphan = layout.downloads_dir / "deadbeef00.partial"
    orphan.write_bytes(b"x" * 100)
    (layout.downloads_dir / "deadbeef00.meta").write_text("{}")
    result = await asyncio.to_thread(cleanup_partials, layout, ())
    assert result.in_use == (f"{download_id}.partial",)
    assert set(result.deleted_files) == {"deadbeef00.partial", "deadbeef00.meta"}
    assert result.freed_bytes == 100
    done = await manager.wait(download_id)
    assert done.status is DownloadStatus.COMPLETED, done.error


async def test_cleanup_keeps_resumable_partials_unless_asked(
    manager: DownloadManager, services: Services, hub: FakeHub, paths: Paths
) -> None:
    download_id = await started_slowly(manager, services, hub)
    await manager.pause_download(download_id)
    assert (await manager.cleanup()).deleted_files == ()
    result = await manager.cleanup(include_resumable=True)
    assert f"{download_id}.partial" in result.deleted_files

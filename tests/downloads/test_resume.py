"""Checklist D3, D4, D7 and D11: what is on disk is reused when, and only when, it is safe."""

from __future__ import annotations

import asyncio
import errno
import json
import os
from pathlib import Path

import pytest
from gguf import GGMLQuantizationType

from lexitui.config import Paths
from lexitui.domain.enums import DownloadStatus
from lexitui.downloads import space
from lexitui.downloads.manager import DownloadManager
from lexitui.downloads.verify import IntegrityVerifier
from lexitui.services import Services
from tests.downloads.conftest import (
    SMALL,
    TINY,
    cdn_gets,
    fetch,
    pick,
    range_of,
    requested_bytes,
    served_bytes,
)
from tests.fakes.hub_gguf import tiny_gguf
from tests.fakes.hub_records import blob_file
from tests.fakes.hub_server import FakeHub

Q8 = "tiny-random-llama-Q8_0.gguf"
Q8_ID = "lexitui-fixtures.tiny-random-llama-gguf:q8_0"
SIZE = 1792


def meta_of(paths: Paths, download_id: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (paths.models_dir / "downloads" / f"{download_id}.meta").read_text()
    )
    return data


def done_bytes(meta: dict[str, object]) -> int:
    ranges = meta["done"]
    assert isinstance(ranges, list)
    return sum(end - start for start, end in ranges)


async def paused_half_way(manager: DownloadManager, services: Services, hub: FakeHub) -> str:
    """Start the Q8 download on a slow CDN and pause it with some chunks on disk."""
    hub.faults.rate = 1500  # bytes/s per connection: 512-byte chunks take ~0.35 s
    model, variant = await pick(services, TINY, "Q8_0")
    started = await manager.start_download(model, variant, SMALL)
    while (job := manager.job(started.id)) is None or job.downloaded_bytes() == 0:
        await asyncio.sleep(0.02)
    paused = await manager.pause_download(started.id)
    assert 0 < paused.downloaded_bytes < SIZE
    assert paused.status is DownloadStatus.PAUSED
    hub.faults.rate = None
    return started.id


async def test_a_paused_download_resumes_without_refetching_what_is_on_disk(
    manager: DownloadManager, services: Services, hub: FakeHub, paths: Paths
) -> None:
    download_id = await paused_half_way(manager, services, hub)
    have = done_bytes(meta_of(paths, download_id))
    assert 0 < have < SIZE
    before = len(cdn_gets(hub))
    await manager.resume_download(download_id)
    done = await manager.wait(download_id)
    assert done.status is DownloadStatus.COMPLETED, done.error
    assert requested_bytes(cdn_gets(hub)[before:], SIZE) == SIZE - have
    installed = await services.registry.get(Q8_ID)
    assert Path(installed.path).read_bytes() == served_bytes(hub, TINY, Q8)


async def test_d3_a_file_changed_on_the_hub_discards_the_partial(
    manager: DownloadManager, services: Services, hub: FakeHub, paths: Paths
) -> None:
    download_id = await paused_half_way(manager, services, hub)
    assert done_bytes(meta_of(paths, download_id)) > 0
    old = served_bytes(hub, TINY, Q8)
    new = tiny_gguf("tiny-random-llamb", GGMLQuantizationType.Q8_0)  # same size, other bytes
    assert len(new) == len(old) and new != old
    repo = hub.repos[TINY]
    repo.files = [blob_file(Q8, new) if f.path == Q8 else f for f in repo.files]
    before = len(cdn_gets(hub))
    await manager.resume_download(download_id)
    done = await manager.wait(download_id)
    assert done.status is DownloadStatus.COMPLETED, done.error
    assert requested_bytes(cdn_gets(hub)[before:], SIZE) == SIZE  # nothing old was kept
    installed = await services.registry.get(Q8_ID)
    assert Path(installed.path).read_bytes() == new


async def test_d3_ranges_carry_if_range_with_the_cdn_etag(
    manager: DownloadManager, services: Services, hub: FakeHub
) -> None:
    await fetch(manager, services)
    f = hub.repos[TINY].file(Q8)
    assert f is not None
    assert {c.if_range for c in cdn_gets(hub)} == {f'"{f.cdn_etag}"'}


async def test_d4_a_complete_partial_is_verified_not_refetched(
    manager: DownloadManager,
    services: Services,
    hub: FakeHub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = IntegrityVerifier.validate_gguf

    async def crash_once(self: IntegrityVerifier, path: Path) -> object:
        monkeypatch.setattr(IntegrityVerifier, "validate_gguf", real)
        raise RuntimeError("simulated crash after the last byte")

    monkeypatch.setattr(IntegrityVerifier, "validate_gguf", crash_once)
    first = await fetch(manager, services)
    assert first.status is DownloadStatus.FAILED
    before = len(cdn_gets(hub))
    await manager.retry_download(first.id)
    done = await manager.wait(first.id)
    assert done.status is DownloadStatus.COMPLETED, done.error
    assert len(cdn_gets(hub)) == before  # every chunk was on disk: no byte asked for again


async def test_d4_a_complete_stream_partial_gets_416_and_is_verified(
    manager: DownloadManager,
    services: Services,
    hub: FakeHub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lexitui.downloads.target import url_target

    hub.faults.chunked = True
    hub.faults.hide_linked_size = True  # no size anywhere: stream mode
    real = IntegrityVerifier.validate_gguf

    async def crash_once(self: IntegrityVerifier, path: Path) -> object:
        monkeypatch.setattr(IntegrityVerifier, "validate_gguf", real)
        raise RuntimeError("simulated crash after the last byte")

    monkeypatch.setattr(IntegrityVerifier, "validate_gguf", crash_once)
    model, variant = url_target(f"{hub.base_url}/{TINY}/resolve/main/{Q8}")
    started = await manager.start_download(model, variant, SMALL, require_size=False)
    assert (await manager.wait(started.id)).status is DownloadStatus.FAILED
    before = len(cdn_gets(hub))
    await manager.retry_download(started.id)
    done = await manager.wait(started.id)
    assert done.status is DownloadStatus.COMPLETED, done.error
    (again,) = cdn_gets(hub)[before:]
    assert range_of(again) == (SIZE, None)  # answered 416: nothing past the end


async def test_d7_an_unreadable_or_half_written_meta_never_bricks_a_download(
    manager: DownloadManager, services: Services, hub: FakeHub, paths: Paths
) -> None:
    download_id = await paused_half_way(manager, services, hub)
    folder = paths.models_dir / "downloads"
    (folder / f"{download_id}.meta").write_text('{"format": 1, "size": 17')  # torn
    (folder / f"{download_id}.meta.tmp").write_text("leftover of a kill")
    await manager.resume_download(download_id)
    done = await manager.wait(download_id)
    assert done.status is DownloadStatus.COMPLETED, done.error
    installed = await services.registry.get(Q8_ID)
    assert Path(installed.path).read_bytes() == served_bytes(hub, TINY, Q8)
    assert os.listdir(folder) == []


async def test_d7_a_meta_claiming_more_than_the_partial_holds_is_not_believed(
    manager: DownloadManager, services: Services, hub: FakeHub, paths: Paths
) -> None:
    download_id = await paused_half_way(manager, services, hub)
    partial = paths.models_dir / "downloads" / f"{download_id}.partial"
    os.truncate(partial, 0)  # the bytes are gone, the meta still lists them
    await manager.resume_download(download_id)
    done = await manager.wait(download_id)
    assert done.status is DownloadStatus.COMPLETED, done.error
    installed = await services.registry.get(Q8_ID)
    assert Path(installed.path).read_bytes() == served_bytes(hub, TINY, Q8)


async def test_d11_space_is_checked_before_any_byte(
    manager: DownloadManager,
    services: Services,
    hub: FakeHub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(space, "disk_free", lambda folder: SIZE)  # < size + 20%
    done = await fetch(manager, services)
    assert done.status is DownloadStatus.FAILED
    assert done.error is not None and "not enough free space" in done.error
    assert cdn_gets(hub) == []


async def test_d11_a_full_disk_stops_at_once_and_keeps_the_partial(
    manager: DownloadManager,
    services: Services,
    hub: FakeHub,
    paths: Paths,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_pwritev = os.pwritev
    writes: list[int] = []

    def filling(fd: int, buffers: list[memoryview], offset: int) -> int:
        if len(writes) >= 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        writes.append(real_pwritev(fd, buffers, offset))
        return writes[-1]

    hub.faults.rate = 3000
    monkeypatch.setattr(os, "pwritev", filling)
    model, variant = await pick(services, TINY, "Q8_0")
    options = SMALL.__class__(
        max_concurrent_connections=4, chunk_size_bytes=512, auto_retry_on_failure=True
    )
    started = await manager.start_download(model, variant, options)
    failed = await manager.wait(started.id)
    assert failed.status is DownloadStatus.FAILED
    assert failed.error is not None and "disk full" in failed.error
    assert failed.retry_count == 0  # no point retrying into a full disk
    gets = len(cdn_gets(hub))
    assert gets == 4  # no chunk was asked again
    meta = meta_of(paths, started.id)
    kept = sum(writes)
    assert done_bytes(meta) == kept  # exactly the two writes that succeeded
    monkeypatch.setattr(os, "pwritev", real_pwritev)
    hub.faults.rate = None
    await manager.retry_download(started.id)
    done = await manager.wait(started.id)
    assert done.status is DownloadStatus.COMPLETED, done.error
    assert requested_bytes(cdn_gets(hub)[gets:], SIZE) == SIZE - kept

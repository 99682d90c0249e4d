"""Checklist D1, D2, D5, D6, D9, D10 and K3: a misbehaving CDN never corrupts a download."""

from __future__ import annotations

import asyncio

import pytest

from lexitui.config import Paths
from lexitui.domain.enums import DownloadStatus
from lexitui.downloads.manager import DownloadManager
from lexitui.downloads.target import url_target
from lexitui.services import Services
from tests.downloads.conftest import (
    SMALL,
    TINY,
    cdn_gets,
    fetch,
    make_manager,
    range_of,
    served_bytes,
)
from tests.fakes.hub_server import GRANTED_TOKEN, FakeHub

Q8 = "tiny-random-llama-Q8_0.gguf"
Q8_ID = "lexitui-fixtures.tiny-random-llama-gguf:q8_0"


async def installed_bytes(services: Services) -> bytes:
    model = await services.registry.get(Q8_ID)
    with open(model.path, "rb") as handle:
        return handle.read()


async def test_d1_a_200_to_a_range_request_is_not_appended(
    manager: DownloadManager, services: Services, hub: FakeHub
) -> None:
    hub.faults.ignore_range = 1
    done = await fetch(manager, services)
    assert done.status is DownloadStatus.COMPLETED, done.error
    assert await installed_bytes(services) == served_bytes(hub, TINY, Q8)
    assert len(cdn_gets(hub)) == 5  # four chunks, one of them asked twice


async def test_d1_a_server_without_ranges_is_read_whole_from_byte_0(
    manager: DownloadManager, services: Services, hub: FakeHub
) -> None:
    hub.faults.ignore_range = 1000
    done = await fetch(manager, services)
    assert done.status is DownloadStatus.COMPLETED, done.error
    assert await installed_bytes(services) == served_bytes(hub, TINY, Q8)
    assert cdn_gets(hub)[-1].range is None  # the restart: one plain GET of the whole file


async def test_d1_a_200_to_a_resumed_stream_starts_it_again_from_byte_0(
    manager: DownloadManager, services: Services, hub: FakeHub
) -> None:
    hub.faults.chunked = True
    hub.faults.hide_linked_size = True  # no size: one stream, resumed with "bytes=N-"
    hub.faults.rate = 1500
    model, variant = url_target(f"{hub.base_url}/{TINY}/resolve/main/{Q8}")
    started = await manager.start_download(model, variant, SMALL, require_size=False)
    while (job := manager.job(started.id)) is None or job.downloaded_bytes() == 0:
        await asyncio.sleep(0.02)
    await manager.pause_download(started.id)
    hub.faults.rate = None
    hub.faults.ignore_range = 1
    await manager.resume_download(started.id)
    done = await manager.wait(started.id)
    assert done.status is DownloadStatus.COMPLETED, done.error
    resumed = cdn_gets(hub)[-1]
    assert resumed.range is not None and not resumed.range.startswith("bytes=0-")
    installed = await services.registry.get("tiny-random-llama-q8_0")
    with open(installed.path, "rb") as handle:
        assert handle.read() == served_bytes(hub, TINY, Q8)


async def test_d2_a_206_for_other_bytes_is_rejected_and_the_chunk_retried(
    manager: DownloadManager, services: Services, hub: FakeHub
) -> None:
    hub.faults.shift_range = 1
    done = await fetch(manager, services)
    assert done.status is DownloadStatus.COMPLETED, done.error
    assert await installed_bytes(services) == served_bytes(hub, TINY, Q8)


async def test_d2_a_server_that_keeps_sending_other_bytes_fails_cleanly(
    manager: DownloadManager, services: Services, hub: FakeHub, paths: Paths
) -> None:
    hub.faults.shift_range = 1000
    done = await fetch(manager, services)
    assert done.status is DownloadStatus.FAILED
    assert done.error is not None and "sent bytes" in done.error
    assert not list((paths.models_dir / "blobs").iterdir())
    assert await services.registry.list() == [m for m in await services.registry.list()]
    assert Q8_ID not in {m.id for m in await services.registry.list()}


async def test_d5_a_reset_mid_chunk_resumes_from_the_bytes_on_disk(
    manager: DownloadManager, services: Services, hub: FakeHub
) -> None:
    hub.faults.resets, hub.faults.reset_after = 1, 200
    done = await fetch(manager, services)
    assert done.status is DownloadStatus.COMPLETED, done.error
    assert await installed_bytes(services) == served_bytes(hub, TINY, Q8)
    starts = sorted(span[0] for c in cdn_gets(hub) if (span := range_of(c)))
    # The chunk cut after 200 bytes is asked again from byte 200 of it, not from its start.
    assert [s for s in starts if s % 512] == [next(s for s in starts if s % 512)]
    assert any(s % 512 == 200 for s in starts)


async def test_d6_a_stalled_chunk_is_retried_alone(services: Services, hub: FakeHub) -> None:
    manager = make_manager(services, read_timeout_s=1.0)
    try:
        hub.faults.stalls, hub.faults.stall_after = 1, 100
        done = await fetch(manager, services)
    finally:
        await manager.close()
    assert done.status is DownloadStatus.COMPLETED, done.error
    assert await installed_bytes(services) == served_bytes(hub, TINY, Q8)
    gets = cdn_gets(hub)
    assert len(gets) == 5  # the four chunks, and the stalled one again from where it stopped
    assert sum(1 for c in gets if (span := range_of(c)) and span[0] % 512 == 100) == 1


async def test_d9_no_content_length_with_the_size_from_the_listing(
    manager: DownloadManager, services: Services, hub: FakeHub
) -> None:
    hub.faults.chunked = True
    hub.faults.hide_linked_size = True
    done = await fetch(manager, services)
    assert done.status is DownloadStatus.COMPLETED, done.error
    assert await installed_bytes(services) == served_bytes(hub, TINY, Q8)
    assert len(cdn_gets(hub)) == 4  # the registry's size is enough to cut chunks


async def test_d9_a_url_whose_size_nobody_states_is_streamed_whole(
    manager: DownloadManager, services: Services, hub: FakeHub
) -> None:
    hub.faults.chunked = True
    hub.faults.hide_linked_size = True
    model, variant = url_target(f"{hub.base_url}/{TINY}/resolve/main/{Q8}")
    started = await manager.start_download(model, variant, SMALL, require_size=False)
    done = await manager.wait(started.id)
    assert done.status is DownloadStatus.COMPLETED, done.error
    body = served_bytes(hub, TINY, Q8)
    assert done.total_bytes == len(body)
    installed = await services.registry.get("tiny-random-llama-q8_0")
    with open(installed.path, "rb") as handle:
        assert handle.read() == body
    assert [c.range for c in cdn_gets(hub)] == [None]  # size unknown: one stream


async def test_d9_we_ask_for_identity_so_a_compressing_server_sends_raw_bytes(
    manager: DownloadManager, services: Services, hub: FakeHub
) -> None:
    hub.faults.gzip = "if_accepted"
    done = await fetch(manager, services)
    assert done.status is DownloadStatus.COMPLETED, done.error
    assert {c.accept_encoding for c in hub.calls if c.server == "cdn"} == {"identity"}


async def test_d9_a_server_that_compresses_anyway_is_decoded_whole(
    manager: DownloadManager, services: Services, hub: FakeHub
) -> None:
    hub.faults.gzip = "always"
    done = await fetch(manager, services)
    assert done.status is DownloadStatus.COMPLETED, done.error
    assert await installed_bytes(services) == served_bytes(hub, TINY, Q8)


@pytest.mark.parametrize("token", [None, GRANTED_TOKEN])
async def test_d10_an_expired_cdn_link_goes_back_to_the_origin_and_k3_keeps_the_token_there(
    services: Services, hub: FakeHub, monkeypatch: pytest.MonkeyPatch, token: str | None
) -> None:
    if token:
        monkeypatch.setenv("HF_TOKEN", token)
    manager = make_manager(services)
    try:
        hub.faults.expire_after = 2  # every link dies after two bodies
        done = await fetch(manager, services)
    finally:
        await manager.close()
    assert done.status is DownloadStatus.COMPLETED, done.error
    assert await installed_bytes(services) == served_bytes(hub, TINY, Q8)
    resolves = hub.hub_calls(f"/{TINY}/resolve")
    assert len(resolves) >= 2  # fresh redirects after the 403s
    assert all(c.has_auth == bool(token) for c in resolves)
    assert not any(c.has_auth for c in hub.calls if c.server == "cdn")


async def test_k2_signed_cdn_links_never_reach_errors_or_rows(
    manager: DownloadManager, services: Services, hub: FakeHub
) -> None:
    hub.cdn_url_ttl_s = -60  # every link the Hub hands out has already expired
    done = await fetch(manager, services)
    assert done.status is DownloadStatus.FAILED
    assert done.error is not None and "403" in done.error
    rows = await services.store.fetch_all("SELECT record FROM downloads")
    for text in [done.error, *(r["record"] for r in rows)]:
        assert "Signature" not in text and "Expires=" not in text

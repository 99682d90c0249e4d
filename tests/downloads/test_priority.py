"""Download priorities: with one slot busy, the waiting downloads start High, then Normal, then
Low, first come first served within a priority, and ``set_priority`` re-sorts a waiting one."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from lexitui.domain.discovery import ModelVariant, RemoteModel
from lexitui.domain.downloads import ModelDownload
from lexitui.domain.enums import DownloadPriority, DownloadStatus
from lexitui.downloads.errors import DownloadStateError
from lexitui.downloads.manager import DownloadManager
from lexitui.events import Event, ModelDownloadStarted
from lexitui.services import Services
from tests.downloads.conftest import SMALL, TINY, fetch, make_manager, pick
from tests.fakes.hub_repos_served import tiny_fixture_gguf
from tests.fakes.hub_server import FakeHub

LOW, NORMAL, HIGH = DownloadPriority.LOW, DownloadPriority.NORMAL, DownloadPriority.HIGH


async def copies(services: Services, hub: FakeHub, names: list[str]) -> list[RemoteModel]:
    """Distinct repos holding the tiny fixture, so each is its own download (the queue folds a
    second request for the same model and variant into the first)."""
    models = []
    for name in names:
        rid = f"lexitui-fixtures/{name}"
        hub.repos[rid] = replace(tiny_fixture_gguf(), id=rid)
        model, _ = await pick(services, rid, "Q8_0")
        models.append(model)
    return models


def q8(model: RemoteModel) -> ModelVariant:
    (variant,) = [v for v in model.variants if v.variant_id == "Q8_0"]
    return variant


async def busy(manager: DownloadManager, services: Services, hub: FakeHub) -> ModelDownload:
    """Start a slow download and return once it holds the only slot."""
    hub.faults.rate = 2_000  # per connection: ~0.25 s a 512-byte chunk
    model, variant = await pick(services, TINY, "Q8_0")
    started = await manager.start_download(model, variant, SMALL)
    while (job := manager.job(started.id)) is None or job.downloaded_bytes() == 0:
        await asyncio.sleep(0.02)
    return started


def start_order(seen: list[Event]) -> list[str]:
    return [e.model_id.rsplit("/", 1)[1] for e in seen if isinstance(e, ModelDownloadStarted)]


async def test_waiting_downloads_start_by_priority_then_arrival(
    services: Services, hub: FakeHub
) -> None:
    names = ["low", "normal-1", "high", "normal-2"]
    priorities = [LOW, NORMAL, HIGH, NORMAL]
    models = await copies(services, hub, names)
    seen: list[Event] = []
    services.bus.downloads.subscribe(seen.append)
    manager = make_manager(services, max_concurrent_downloads=1)
    try:
        first = await busy(manager, services, hub)
        queued = [
            await manager.start_download(m, q8(m), replace(SMALL, priority=p))
            for m, p in zip(models, priorities, strict=True)
        ]
        waiting = await services.downloads.get(queued[0].id)
        assert waiting is not None and waiting.status is DownloadStatus.QUEUED
        results = [await manager.wait(d.id) for d in [first, *queued]]
    finally:
        await manager.close()
    assert [r.status for r in results] == [DownloadStatus.COMPLETED] * 5
    assert start_order(seen) == ["tiny-random-llama-GGUF", "high", "normal-1", "normal-2", "low"]


async def test_set_priority_moves_a_waiting_download_ahead(
    services: Services, hub: FakeHub
) -> None:
    models = await copies(services, hub, ["early", "late"])
    seen: list[Event] = []
    services.bus.downloads.subscribe(seen.append)
    manager = make_manager(services, max_concurrent_downloads=1)
    try:
        first = await busy(manager, services, hub)
        low = replace(SMALL, priority=LOW)
        early, late = [await manager.start_download(m, q8(m), low) for m in models]
        changed = await manager.set_priority(late.id, HIGH)
        assert changed.options.priority is HIGH
        row = await services.downloads.get(late.id)
        assert row is not None and row.options.priority is HIGH  # persisted on the queue row
        results = [await manager.wait(d.id) for d in (first, early, late)]
    finally:
        await manager.close()
    assert [r.status for r in results] == [DownloadStatus.COMPLETED] * 3
    assert start_order(seen) == ["tiny-random-llama-GGUF", "late", "early"]
    # Starting it did not write the old priority back over the change.
    assert results[2].options.priority is HIGH


async def test_set_priority_refuses_a_finished_download(
    manager: DownloadManager, services: Services
) -> None:
    done = await fetch(manager, services)
    assert done.status is DownloadStatus.COMPLETED, done.error
    with pytest.raises(DownloadStateError):
        await manager.set_priority(done.id, HIGH)

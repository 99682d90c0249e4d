"""The download queue Discover hands variants to: persisted, deduplicated, safe file names only."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from lexitui.domain.discovery import ModelVariant, RemoteModel
from lexitui.domain.enums import (
    DownloadStatus,
    ModelFormat,
    ModelRegistryType,
    QuantizationType,
)
from lexitui.events import Event, EventBus, ModelDownloadQueued
from lexitui.services import Services
from lexitui.store import Store
from lexitui.store.download_queue import DownloadQueue, DownloadRequestError


def _variant(filename: str = "tiny-Q4_K_M.gguf", size: int = 1234) -> ModelVariant:
    return ModelVariant(
        variant_id="Q4_K_M",
        filename=filename,
        format=ModelFormat.GGUF,
        size_bytes=size,
        quantization=QuantizationType.Q4_K_M,
        files=(filename,),
    )


def _model(variant: ModelVariant) -> RemoteModel:
    return RemoteModel(
        id="someone/tiny-GGUF",
        name="tiny-GGUF",
        registry=ModelRegistryType.HUGGING_FACE,
        variants=(variant,),
        recommended_variant=variant,
    )


async def test_a_queued_variant_is_listed_after_a_restart(services: Services) -> None:
    seen: list[Event] = []
    services.bus.downloads.subscribe(seen.append)
    variant = _variant()
    queue = DownloadQueue(services.store, services.bus)
    queued = await queue.enqueue(_model(variant), variant)
    assert queued.status is DownloadStatus.QUEUED
    assert queued.total_bytes == 1234
    assert [type(e) for e in seen] == [ModelDownloadQueued]

    await services.stop()
    again = Services.build(services.paths)
    await again.start()
    try:
        (listed,) = await DownloadQueue(again.store, again.bus).list()
    finally:
        await again.stop()
    assert listed == queued
    assert listed.variant.quantization is QuantizationType.Q4_K_M


async def test_asking_twice_keeps_one_download(services: Services) -> None:
    variant = _variant()
    queue = DownloadQueue(services.store, services.bus)
    first = await queue.enqueue(_model(variant), variant)
    second = await queue.enqueue(_model(variant), variant)
    assert second.id == first.id
    assert len(await queue.list()) == 1


@pytest.mark.parametrize(
    "name",
    [
        "../evil.gguf",
        "/etc/passwd",
        "C:\\models\\x.gguf",
        "c:x.gguf",
        "a/../../b.gguf",
        "",
        "a\x1b[2J.gguf",
    ],
)
async def test_unsafe_remote_file_names_are_refused(services: Services, name: str) -> None:
    variant = _variant(filename=name)
    queue = DownloadQueue(services.store, services.bus)
    with pytest.raises(DownloadRequestError):
        await queue.enqueue(_model(variant), variant)
    assert await queue.list() == []


async def test_a_variant_without_a_size_is_refused(services: Services) -> None:
    variant = _variant(size=0)
    with pytest.raises(DownloadRequestError, match="no size"):
        await DownloadQueue(services.store, services.bus).enqueue(_model(variant), variant)


async def test_two_instances_asking_at_once_get_one_download(services: Services) -> None:
    """Two processes on one database (two connections here) ask for the same variant in the
    same instant: whether it is already queued is decided inside the write, so one row."""
    other = Store(services.store.path)
    await other.open()
    try:
        variant = _variant()
        mine = DownloadQueue(services.store, services.bus)
        theirs = DownloadQueue(other, EventBus())
        for _ in range(5):
            first, second = await asyncio.gather(
                mine.enqueue(_model(variant), variant), theirs.enqueue(_model(variant), variant)
            )
            assert first.id == second.id
            queued = [d for d in await mine.list() if d.status is DownloadStatus.QUEUED]
            assert [d.id for d in queued] == [first.id]
            await mine.save(replace(first, status=DownloadStatus.COMPLETED))
    finally:
        await other.close()

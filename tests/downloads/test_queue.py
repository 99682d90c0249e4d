"""The download queue Discover hands variants to: persisted, deduplicated, safe file names only."""

from __future__ import annotations

import pytest

from lexitui.domain.discovery import ModelVariant, RemoteModel
from lexitui.domain.enums import (
    DownloadStatus,
    ModelFormat,
    ModelRegistryType,
    QuantizationType,
)
from lexitui.downloads.queue import DownloadQueue, DownloadRequestError
from lexitui.events import Event, ModelDownloadQueued
from lexitui.services import Services


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

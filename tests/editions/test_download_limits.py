"""Downloaded models and their storage on a limited edition: the 4th download on WriterPro, a
download that would pass the storage limit (a small override so the files stay small, and the
real 50 GB with a file the Hub declares large, refused before any byte is fetched), through the
download manager and through ``lexitui pull`` as a user runs it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from lexitui.config import Paths
from lexitui.domain.enums import DownloadStatus
from lexitui.downloads.target import url_target
from lexitui.editions.entitlements import Entitlements
from lexitui.editions.refusals import LimitReached
from lexitui.editions.tiers import TIER_LIMITS, Tier
from lexitui.services import Services
from lexitui.store import Store
from lexitui.store.installed_models import ModelRegistry
from tests.downloads.conftest import TINY, pick
from tests.editions.conftest import ManagedMachine
from tests.fakes.hub_server import FakeHub

pytestmark = pytest.mark.timeout(180)
Q8_ID = "lexitui-fixtures.tiny-random-llama-gguf:q8_0"
KEPT = ("alpha:q4", "beta:q4", "gamma:q4")
BIG_REPO = "bartowski/Meta-Llama-3.1-70B-Instruct-GGUF"  # its Q8_0 declares 75 GB


def writerpro(**limits: int) -> Entitlements:
    allowed = replace(TIER_LIMITS[Tier.WRITERPRO], **limits)
    return Entitlements(Tier.WRITERPRO, "ann", "licensed to ann", managed=True, limits=allowed)


def as_tier(services: Services, entitlements: Entitlements) -> None:
    services.__dict__["entitlements"] = entitlements  # the cached record, as a license gives


def q8_size(hub: FakeHub) -> int:
    found = hub.repos[TINY].file("tiny-random-llama-Q8_0.gguf")
    assert found is not None
    return found.size


async def keep_downloaded(registry: ModelRegistry, folder: Path) -> None:
    """Three models a download installed, plus an import (which does not count)."""
    for model_id in (*KEPT, "mine"):
        path = folder / f"{model_id.replace(':', '-')}.gguf"
        path.write_bytes(b"GGUF" + bytes(1000))
        source = "import" if model_id == "mine" else f"hf:owner/{model_id}"
        await registry.add(model_id, model_id, path, source=source, registered_by_path=False)


async def test_the_fourth_download_is_refused_with_the_three_kept(
    services: Services, hub: FakeHub, tmp_path: Path
) -> None:
    await keep_downloaded(services.registry, tmp_path)
    as_tier(services, writerpro())
    model, variant = await pick(services, TINY, "Q8_0")
    with pytest.raises(LimitReached) as refused:
        await services.download_manager.start_download(model, variant)
    assert str(refused.value) == (
        "WriterPro: 3 downloaded models (3 kept: alpha:q4, beta:q4, gamma:q4); Teams has no limit"
    )
    assert await services.download_manager.get_downloads() == []  # nothing queued
    as_tier(services, writerpro(downloaded_models=4))
    await services.download_manager.start_download(model, variant)


async def test_a_finished_download_and_a_queued_one_count(services: Services, hub: FakeHub) -> None:
    as_tier(services, writerpro(downloaded_models=1))
    manager = services.download_manager
    model, q8 = await pick(services, TINY, "Q8_0")
    done = await manager.wait((await manager.start_download(model, q8)).id)
    assert done.status is DownloadStatus.COMPLETED
    again = await manager.wait((await manager.start_download(model, q8)).id)  # the same model
    assert again.status is DownloadStatus.COMPLETED
    _, f16 = await pick(services, TINY, "F16")
    with pytest.raises(LimitReached, match=rf"1 downloaded model \(1 kept: {Q8_ID}\)"):
        await manager.start_download(model, f16)
    # A paused download holds its place too: retrying a cancelled one is checked again.
    as_tier(services, writerpro(downloaded_models=2))
    paused = await manager.pause_download((await manager.start_download(model, f16)).id)
    cancelled = await manager.cancel_download(paused.id)
    as_tier(services, writerpro(downloaded_models=1))
    with pytest.raises(LimitReached):
        await manager.retry_download(cancelled.id)


async def test_a_download_that_would_pass_the_storage_limit_is_refused_before_any_byte(
    services: Services, hub: FakeHub
) -> None:
    as_tier(services, writerpro(storage_bytes=q8_size(hub) + 100))
    manager = services.download_manager
    model, q8 = await pick(services, TINY, "Q8_0")
    done = await manager.wait((await manager.start_download(model, q8)).id)
    assert done.status is DownloadStatus.COMPLETED
    _, f16 = await pick(services, TINY, "F16")
    fetched = len([c for c in hub.calls if c.server == "cdn"])
    with pytest.raises(LimitReached) as refused:
        await manager.start_download(model, f16)
    assert str(refused.value).startswith("WriterPro: ")
    assert f"({q8_size(hub) / 1000:.1f} kB used, this download " in str(refused.value)
    await asyncio.sleep(0.1)
    assert len([c for c in hub.calls if c.server == "cdn"]) == fetched


async def test_a_plain_url_is_checked_once_its_server_says_its_size(
    services: Services, hub: FakeHub
) -> None:
    as_tier(services, writerpro(storage_bytes=q8_size(hub) - 1))
    model, variant = url_target(f"{hub.base_url}/{TINY}/resolve/main/tiny-random-llama-Q8_0.gguf")
    manager = services.download_manager
    started = await manager.start_download(model, variant, require_size=False)  # size unknown
    done = await manager.wait(started.id)
    assert done.status is DownloadStatus.FAILED
    assert done.error is not None and done.error.startswith("WriterPro: ")
    assert "of downloaded models (0 B used, this download " in done.error
    assert not [c for c in hub.calls if c.server == "cdn" and c.method == "GET"]
    assert all(not m.source.startswith("url:") for m in await services.registry.list())


async def test_downloads_left_queued_wait_while_the_edition_may_not_download(
    services: Services, hub: FakeHub
) -> None:
    model, variant = await pick(services, TINY, "Q8_0")
    queued = await services.downloads.enqueue(model, variant)  # left by an earlier run
    as_tier(
        services, Entitlements(Tier.CORE, "ann", "", managed=True, limits=TIER_LIMITS[Tier.CORE])
    )
    await services.download_manager.start()
    await asyncio.sleep(0.3)
    assert services.download_manager.job(queued.id) is None
    (still,) = await services.download_manager.get_downloads()
    assert still.status is DownloadStatus.QUEUED
    assert not [c for c in hub.calls if c.server == "cdn"]


async def test_teams_downloads_past_writerpros_limits(services: Services, hub: FakeHub) -> None:
    as_tier(
        services, Entitlements(Tier.TEAMS, "ann", "", managed=True, limits=TIER_LIMITS[Tier.TEAMS])
    )
    await keep_downloaded(services.registry, Path(services.paths.data_dir))
    model, variant = await pick(services, BIG_REPO, "Q4_K_M")
    download = await services.download_manager.start_download(model, variant)
    await services.download_manager.cancel_download(download.id)


# --- as a user runs it -------------------------------------------------------------------------


async def seed_downloaded(paths: Paths, folder: Path) -> None:
    store = Store(paths.database)
    await store.open()
    try:
        await keep_downloaded(ModelRegistry(store), folder)
    finally:
        await store.close()


async def test_pull_refuses_the_fourth_download_in_one_line(
    managed: ManagedMachine, hub: FakeHub, paths: Paths, tmp_path: Path
) -> None:
    managed.license(Tier.WRITERPRO)
    paths.ensure()
    await seed_downloaded(paths, tmp_path)
    refused = await asyncio.to_thread(managed.run, "pull", f"{TINY}:Q8_0")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "lexitui: WriterPro: 3 downloaded models (3 kept: alpha:q4, beta:q4, gamma:q4); "
        "Teams has no limit"
    )
    assert not [c for c in hub.calls if c.server == "cdn"]


async def test_pull_refuses_a_download_past_50_gb_before_fetching_a_byte(
    managed: ManagedMachine, hub: FakeHub
) -> None:
    managed.license(Tier.WRITERPRO)
    refused = await asyncio.to_thread(managed.run, "pull", f"{BIG_REPO}:Q8_0")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "lexitui: WriterPro: 50 GB of downloaded models (0 B used, this download 75.0 GB); "
        "Teams has no limit"
    )
    assert not [c for c in hub.calls if c.server == "cdn" or "/resolve/" in c.path]


async def test_pull_stops_at_a_smaller_storage_limit(managed: ManagedMachine, hub: FakeHub) -> None:
    managed.license(Tier.WRITERPRO, limits={"storage_bytes": q8_size(hub) + 100})
    done = await asyncio.to_thread(managed.run, "pull", f"{TINY}:Q8_0")
    assert done.returncode == 0, done.stderr
    refused = await asyncio.to_thread(managed.run, "pull", f"{TINY}:F16", "--json")
    assert refused.returncode == 1
    assert '"status": "failed"' in refused.stdout
    assert "kB of downloaded models" in refused.stdout and "Teams has no limit" in refused.stdout

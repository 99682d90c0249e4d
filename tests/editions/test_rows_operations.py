"""The rows of docs/editions.md that downloading, fitting, the shared library, engines, backends,
profiling, the context, the gateway and load configuration enforce, per tier, through the
services (the CLI, the gateway and the TUI call the same ones).

One engine is loaded unmanaged first, then each probe runs with a tier's entitlements: allowed
tiers get a real answer, the others a ``NotEntitled`` naming the tier that unlocks the row."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest

from lexitui.commands.fit import resolve_target
from lexitui.discovery.bulk_fit import FitRow, analyse_all, row_from_fit
from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.discovery import ModelSearchQuery
from lexitui.domain.enums import DownloadStatus
from lexitui.editions.entitlements import OPEN, Entitlements
from lexitui.editions.refusals import LimitReached, NotEntitled
from lexitui.editions.tiers import REQUIRED_TIER, TIER_LIMITS, Action, Tier
from lexitui.engine.build import BuildPlan, build
from lexitui.gateway.server import Gateway
from lexitui.routing.gateway_settings import GatewaySettings
from lexitui.runtime.errors import NoModelLoaded
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID
from tests.downloads.conftest import TINY, pick
from tests.fakes.hub_server import FakeHub

pytestmark = [pytest.mark.engine, pytest.mark.timeout(300)]

LOADED = ModelLoadOptions(context_length=512, embedding=True)
Probe = Callable[[Services], Awaitable[object]]


def licensed(tier: Tier) -> Entitlements:
    return Entitlements(tier, "ann", "licensed to ann", managed=True, limits=TIER_LIMITS[tier])


def as_tier(services: Services, entitlements: Entitlements) -> None:
    services.__dict__["entitlements"] = entitlements  # the cached record, as a license gives


async def download(services: Services) -> object:
    model, variant = await pick(services, TINY, "Q8_0")
    manager = services.download_manager
    done = await manager.wait((await manager.start_download(model, variant)).id)
    assert done.status is DownloadStatus.COMPLETED, done.error
    return done


async def fit(services: Services, count: int) -> list[FitRow]:
    analyzer = await services.discovery.analyzer()

    async def one(target: str) -> FitRow:
        found = await resolve_target(target)
        return row_from_fit(target, await analyzer.analyze_variant(found.variant, found.facts))

    rows = await analyse_all([STARTER_ID] * count, one, entitlements=services.entitlements)
    assert all(row.analysed for row in rows), rows
    return rows


async def add_backend(services: Services) -> object:
    return services.backends.add_custom("mine", "http://127.0.0.1:9")


async def snapshot(services: Services) -> object:
    saved = await services.context.save_snapshot(label="probe")
    return await services.context.restore_snapshot(saved)


async def serve(services: Services) -> object:
    gateway = Gateway(services.routing, GatewaySettings(port=0), entitlements=services.entitlements)
    try:
        return await gateway.start()
    finally:
        await gateway.stop()


PROBES: dict[Action, Probe] = {
    Action.DOWNLOAD: download,
    Action.COMPATIBILITY: lambda s: fit(s, 1),
    Action.BULK_ANALYSIS: lambda s: fit(s, 2),
    Action.SHARED_LIBRARY: lambda s: s.storage.scan_library(),
    Action.MANAGED_ENGINE: lambda s: s.runtime.load(STARTER_ID, replace(LOADED, engine="embedded")),
    Action.CUSTOM_BACKENDS: add_backend,
    Action.PROFILING: lambda s: s.profiler.bench(max_tokens=1),
    Action.SNAPSHOTS: snapshot,
    Action.CONTEXT_MANAGEMENT: lambda s: s.context.clear(),
    Action.SERVE: serve,
    Action.ALL_CONFIGURATION: lambda s: s.runtime.load(STARTER_ID, replace(LOADED, threads=2)),
}


async def test_each_row_is_allowed_from_its_tier_and_refused_below_it(
    services: Services, hub: FakeHub
) -> None:
    await services.runtime.load(STARTER_ID, LOADED)
    for action, probe in PROBES.items():
        needed = REQUIRED_TIER[action]
        for tier in Tier:
            as_tier(services, licensed(tier))
            if tier.rank >= needed.rank:
                await probe(services)  # works: no refusal, a real answer
                continue
            with pytest.raises(NotEntitled) as refused:
                await probe(services)
            assert refused.value.needed is needed, (action, tier)
            assert f"{action.value} needs {needed.title} or above" in str(refused.value)
        as_tier(services, OPEN)
        if action in (Action.MANAGED_ENGINE, Action.ALL_CONFIGURATION):  # back to one engine
            await services.runtime.unload_all()
            await services.runtime.load(STARTER_ID, LOADED)


def test_building_an_engine_is_refused_below_enterprise_before_anything_is_built() -> None:
    with pytest.raises(NotEntitled, match="managed backend deployment needs Enterprise"):
        build(BuildPlan("cpu", (), 1), print, entitlements=licensed(Tier.TEAMS))


async def test_discover_shows_no_fit_verdict_below_teams_and_says_which_tier_gives_it(
    services: Services, hub: FakeHub
) -> None:
    as_tier(services, licensed(Tier.WRITERPRO))
    model, _ = await pick(services, TINY, "Q8_0")
    badge = await services.discovery.badge(model)
    assert badge.level is None and badge.detail == "compatibility analysis needs Teams or above"
    details = await services.discovery.details(TINY)
    assert details.compatibility is None and details.variants  # still there to download
    assert all(v.level is None for v in details.variants)
    assert any("compatibility analysis needs Teams" in note for note in details.notes)
    fitting = ModelSearchQuery(query="qwen", only_compatible=True)
    with pytest.raises(NotEntitled, match="compatibility analysis needs Teams"):
        await services.discovery.search(fitting)  # refused before a search is counted
    quota = services.discovery.quota
    assert quota is not None and await quota.used_today() == 0
    as_tier(services, licensed(Tier.TEAMS))
    assert (await services.discovery.details(TINY)).compatibility is not None


async def test_writerpro_uses_one_backend_at_a_time(services: Services) -> None:
    await services.runtime.load(STARTER_ID, LOADED)
    as_tier(services, licensed(Tier.WRITERPRO))
    with pytest.raises(LimitReached) as refused:
        await services.runtime.load("llama3", LOADED, backend="ollama")
    assert str(refused.value) == (
        "WriterPro: 1 backend (1 in use: embedded llama.cpp; unload first); Teams has no limit"
    )
    as_tier(services, licensed(Tier.TEAMS))  # no limit: past the check, to the (absent) Ollama
    with pytest.raises(Exception) as other:
        await services.runtime.load("llama3", LOADED, backend="ollama")
    assert not isinstance(other.value, LimitReached | NotEntitled)


async def test_context_and_snapshot_checks_come_before_the_model_is_looked_up(
    services: Services,
) -> None:
    # With no model loaded, a gated tier hears of its tier (not of the missing model), and an
    # allowed one of the missing model.
    as_tier(services, licensed(Tier.WRITERPRO))
    with pytest.raises(NotEntitled):
        await services.context.truncate(0)
    as_tier(services, licensed(Tier.TEAMS))
    with pytest.raises(NoModelLoaded):
        await services.context.truncate(0)
    with pytest.raises(NotEntitled):
        await services.context.save_snapshot()


async def test_starting_the_managed_engine_asks_what_a_load_asks(services: Services) -> None:
    # `lexitui backend start` serves a model too: no way round the load checks.
    as_tier(services, licensed(Tier.CORE))
    with pytest.raises(NotEntitled, match="load a model needs WriterPro"):
        await services.backends.start_managed(STARTER_ID, ModelLoadOptions(context_length=512))
    as_tier(services, licensed(Tier.WRITERPRO))
    with pytest.raises(NotEntitled, match="all configuration options needs Teams"):
        await services.backends.start_managed(STARTER_ID, ModelLoadOptions(threads=2))
    assert not services.backends.managed.running

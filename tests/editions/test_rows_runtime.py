"""The rows of docs/editions.md that loading, generating and searching enforce, per tier,
through the services (the CLI and the gateway call the same ones).

One engine is loaded unmanaged first, then each probe runs with a tier's entitlements: allowed
tiers get their answer, the others a ``NotEntitled`` naming the tier that unlocks the row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from lexitui.discovery.ollama_library import OllamaLibraryRegistry
from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.discovery import ModelSearchQuery
from lexitui.domain.enums import ModelRegistryType
from lexitui.domain.inference import LocalEmbeddingRequest, LocalGenerationRequest
from lexitui.editions.entitlements import OPEN, Entitlements
from lexitui.editions.refusals import LimitReached, NotEntitled
from lexitui.editions.tiers import REQUIRED_TIER, TIER_LIMITS, Action, Tier
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID
from lexitui.store.search_cache import RegistryCache
from tests.fakes.hub_server import FakeHub
from tests.fakes.ollama_site import FakeOllamaSite

pytestmark = [pytest.mark.engine, pytest.mark.timeout(300)]

LOADED = ModelLoadOptions(context_length=512, embedding=True)
Probe = Callable[[Services], Awaitable[object]]


def licensed(tier: Tier) -> Entitlements:
    return Entitlements(tier, "ann", "licensed to ann", managed=True, limits=TIER_LIMITS[tier])


def as_tier(services: Services, entitlements: Entitlements) -> None:
    services.__dict__["entitlements"] = entitlements  # the cached record, as a license gives


async def generate(services: Services, **fields: object) -> object:
    request = LocalGenerationRequest(prompt="Say hi", max_tokens=2, temperature=0, **fields)  # type: ignore[arg-type]
    return (await services.runtime.generate(request)).text


async def search(services: Services, kind: ModelRegistryType) -> object:
    return await services.discovery.search(ModelSearchQuery(query="qwen"), kind)


PROBES: dict[Action, Probe] = {
    Action.DETECT_HARDWARE: lambda s: s.hardware.detect(),
    Action.VIEW_INSTALLED: lambda s: s.registry.list(),
    Action.BACKEND_STATUS: lambda s: s.backends.reports(),
    Action.LOAD_MODEL: lambda s: s.runtime.load(STARTER_ID, LOADED),
    Action.GENERATE: generate,
    Action.ALL_PARAMETERS: lambda s: generate(s, top_k=5, min_p=0.05),
    Action.EMBEDDINGS: lambda s: s.runtime.embed(LocalEmbeddingRequest(texts=("a cat",))),
    Action.CONCURRENT_REQUESTS: lambda s: s.runtime.load(STARTER_ID, replace(LOADED, parallel=2)),
    Action.SEARCH_HUB: lambda s: search(s, ModelRegistryType.HUGGING_FACE),
    Action.BROWSE_OLLAMA: lambda s: search(s, ModelRegistryType.OLLAMA_LIBRARY),
}


async def test_each_row_is_allowed_from_its_tier_and_refused_below_it(
    services: Services, hub: FakeHub
) -> None:
    await services.runtime.load(STARTER_ID, LOADED)
    async with FakeOllamaSite() as site:
        # Browsing the library reads its website (here the recorded pages).
        library = OllamaLibraryRegistry(RegistryCache(services.store), site_url=site.url)
        services.discovery.registries[ModelRegistryType.OLLAMA_LIBRARY] = library
        await probe_every_row(services)


async def probe_every_row(services: Services) -> None:
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
        if action is Action.CONCURRENT_REQUESTS:  # back to the one-slot engine the others use
            await services.runtime.unload_all()
            await services.runtime.load(STARTER_ID, LOADED)


async def test_writerpro_holds_one_loaded_model(services: Services, starter_path: Path) -> None:
    await services.registry.add(
        "starter-copy", "Starter copy", starter_path, source="test", registered_by_path=True
    )
    as_tier(services, licensed(Tier.WRITERPRO))
    await services.runtime.load(STARTER_ID, ModelLoadOptions(context_length=512))
    # The same model again is not a second one.
    await services.runtime.load(STARTER_ID, ModelLoadOptions(context_length=512))
    with pytest.raises(LimitReached) as refused:
        await services.runtime.load("starter-copy", ModelLoadOptions(context_length=512))
    assert str(refused.value).startswith(f"WriterPro: 1 loaded model (1 loaded: {STARTER_ID}")
    assert [m.model.id for m in services.runtime.loaded_models()] == [STARTER_ID]
    as_tier(services, licensed(Tier.TEAMS))  # no limit: both at once
    await services.runtime.load("starter-copy", ModelLoadOptions(context_length=512))
    assert len(services.runtime.loaded_models()) == 2


async def test_the_eleventh_hub_search_of_a_day_is_refused_and_the_next_day_starts_again(
    services: Services, hub: FakeHub
) -> None:
    as_tier(services, licensed(Tier.WRITERPRO))
    quota = services.discovery.quota
    assert quota is not None
    day = dt.date(2027, 3, 10)
    quota._today = lambda: day
    for _ in range(10):
        await search(services, ModelRegistryType.HUGGING_FACE)
    with pytest.raises(LimitReached) as refused:
        await search(services, ModelRegistryType.HUGGING_FACE)
    assert str(refused.value) == (
        "WriterPro: 10 Hugging Face searches a day (10 used today, UTC); Teams has no limit"
    )
    # The trending list Discover opens on asks for nothing and is not counted, even when spent.
    await services.discovery.search(ModelSearchQuery(), ModelRegistryType.HUGGING_FACE)
    assert await quota.used_today() == 10
    day = dt.date(2027, 3, 11)  # midnight UTC: a new day's count
    await search(services, ModelRegistryType.HUGGING_FACE)
    assert await quota.used_today() == 1

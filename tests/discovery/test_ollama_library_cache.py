"""The Ollama library registry's cache and its search over known names (no search API exists)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lexitui.backends.ollama import OllamaBackend
from lexitui.discovery.ollama_library import (
    MANIFEST_KIND,
    OllamaLibraryRegistry,
    local_ollama_names,
)
from lexitui.discovery.registry import ModelRegistry
from lexitui.domain.discovery import ModelSearchQuery
from lexitui.domain.enums import ModelCategory, ModelRegistryType, ModelSortOrder, QuantizationType
from lexitui.store.database import Store
from lexitui.store.search_cache import RegistryCache, cache_key
from tests.fakes.ollama_models import FakeModel
from tests.fakes.ollama_registry import WEIGHTS, FakeRegistry
from tests.fakes.ollama_server import FakeOllama


def hex_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- the cache --------------------------------------------------------------------------------


async def test_cache_hit_makes_no_request_even_after_a_restart(
    fake: FakeRegistry, cache: RegistryCache
) -> None:
    first = OllamaLibraryRegistry(cache, base_url=fake.url)
    model = await first.resolve("llama3.2:3b")
    await first.aclose()
    requests = len(fake.requests)

    second = OllamaLibraryRegistry(cache, base_url=fake.url)
    try:
        assert await second.get_model("llama3.2:3b") == model
        assert await second.get_variants("llama3.2:3b") == list(model.variants)
    finally:
        await second.aclose()
    assert len(fake.requests) == requests


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_manifests_are_cached_for_a_day_then_served_stale_only_when_offline(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    store = Store(tmp_path / "clocked.db")
    await store.open()
    clock = Clock()
    library = OllamaLibraryRegistry(RegistryCache(store, clock=clock), base_url=fake.url)
    try:
        model = await library.get_model("llama3.2:3b")
        clock.now += timedelta(hours=23)
        await library.get_model("llama3.2:3b")
        assert fake.manifest_requests() == 1

        clock.now += timedelta(hours=2)  # past 24 h: asked again
        assert await library.get_model("llama3.2:3b") == model
        assert fake.manifest_requests() == 2

        clock.now += timedelta(days=2)
        fake.fail_next = (503, {})  # offline answer: the old manifest beats no answer
        assert await library.get_model("llama3.2:3b") == model
        fake.fail_next = (404, {})  # an answer, not an outage: no stale copy
        assert await library.get_model("llama3.2:3b") is None
    finally:
        await library.aclose()
        await store.close()


async def test_tampered_cache_entry_is_refetched(
    library: OllamaLibraryRegistry, fake: FakeRegistry, cache: RegistryCache
) -> None:
    good = await library.get_model("llama3.2:3b")
    key = cache_key(MANIFEST_KIND, "registry.ollama.ai/library/llama3.2:3b")
    hit = await cache.get(key, max_age=None)
    assert hit is not None
    evil = hit.payload["manifest"].replace(hex_of(WEIGHTS), "../../" + "0" * 58)
    await cache.put(key, MANIFEST_KIND, json.dumps({**hit.payload, "manifest": evil}))
    before = fake.manifest_requests()

    assert await library.get_model("llama3.2:3b") == good
    assert fake.manifest_requests() == before + 1


# -- search and the lists the registry does not have ------------------------------------------


async def test_search_runs_over_resolved_and_local_names(
    fake: FakeRegistry, cache: RegistryCache
) -> None:
    # The local Ollama's models, read through the real backend client from a fake Ollama.
    local_models = ["mistral:7b", "hf.co/someone/x-GGUF:Q4_K_M", "llama3.2:3b"]
    ollama = FakeOllama(None, models={name: FakeModel() for name in local_models})
    await ollama.start()
    backend = OllamaBackend(url=ollama.base_url)
    known = local_ollama_names(backend.list_models)
    library = OllamaLibraryRegistry(cache, base_url=fake.url, known_names=known)
    try:
        await library.get_model("llama3.2:3b")
        await library.get_model("someuser/tiny:q8")
        requests = len(fake.requests)

        everything = await library.search(ModelSearchQuery(sort=ModelSortOrder.NAME))
        llama = await library.search(ModelSearchQuery(query="LLAMA"))
        q4 = await library.search(ModelSearchQuery(quantizations=(QuantizationType.Q4_K_M,)))
        page = await library.search(ModelSearchQuery(sort=ModelSortOrder.NAME, skip=1, take=1))
    finally:
        await library.aclose()
        await backend.aclose()
        await ollama.stop()

    assert [m.id for m in everything.models] == ["llama3.2:3b", "mistral:7b", "someuser/tiny:q8"]
    assert everything.total_count == 3 and not everything.has_more
    (found,) = llama.models
    assert found.variants[0].size_bytes == len(WEIGHTS)  # details from the cache
    mistral = next(m for m in everything.models if m.id == "mistral:7b")
    assert mistral.variants == () and "Not opened yet" in (mistral.description or "")
    assert [m.id for m in q4.models] == ["llama3.2:3b"]  # unknown quantization never matches
    assert [m.id for m in page.models] == ["mistral:7b"] and page.has_more
    assert page.total_count == 3
    assert len(fake.requests) == requests  # search never goes to the registry


async def test_search_survives_a_local_ollama_that_is_down(
    library: OllamaLibraryRegistry, fake: FakeRegistry, cache: RegistryCache
) -> None:
    async def broken() -> list[str]:
        raise ConnectionError("ollama is not running")

    await library.get_model("llama3.2:3b")
    library_with_broken = OllamaLibraryRegistry(cache, base_url=fake.url, known_names=broken)
    result = await library_with_broken.search(ModelSearchQuery(query="llama"))
    assert [m.id for m in result.models] == ["llama3.2:3b"]
    assert (await library_with_broken.search(ModelSearchQuery(query="zzz"))).total_count == 0


async def test_no_made_up_lists_and_plain_limitations(library: OllamaLibraryRegistry) -> None:
    assert isinstance(library, ModelRegistry)
    registry: ModelRegistry = library  # mypy checks the Protocol's shape here
    assert registry.name == "Ollama library"
    assert await library.trending(10) == []
    assert await library.by_category(ModelCategory.CODE_GENERATION) == []
    assert library.type is ModelRegistryType.OLLAMA_LIBRARY
    text = " ".join(library.limitations)
    assert "no search API" in text and "tags" in text and "trending" in text
    assert all(s.endswith(".") and "\n" not in s for s in library.limitations)

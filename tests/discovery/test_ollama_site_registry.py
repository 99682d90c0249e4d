"""The Ollama library registry browsing a fake ollama.com: search, popular list, tags, cache."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from lexitui.discovery.errors import ModelNotFoundError, RegistryOfflineError
from lexitui.discovery.ollama_browse import capabilities_of, sizes_of, tag_count_of
from lexitui.discovery.ollama_library import OllamaLibraryRegistry
from lexitui.discovery.ollama_pages import LibraryPageChangedError
from lexitui.discovery.service import DiscoveryService
from lexitui.domain.discovery import ModelSearchQuery, ModelVariant, RemoteModel
from lexitui.domain.downloads import ModelDownload
from lexitui.domain.enums import (
    DownloadStatus,
    ModelRegistryType,
    ModelSizeCategory,
    ModelSortOrder,
    QuantizationType,
)
from lexitui.domain.hardware import HardwareCapabilities
from lexitui.events import EventBus
from lexitui.store import Store
from lexitui.store.search_cache import RegistryCache
from tests.discovery.conftest import FakeClock
from tests.fakes.ollama_registry import WEIGHTS, FakeRegistry
from tests.fakes.ollama_site import FakeOllamaSite, page


@pytest_asyncio.fixture
async def site() -> AsyncIterator[FakeOllamaSite]:
    async with FakeOllamaSite() as fake:
        yield fake


@pytest_asyncio.fixture
async def clocked(tmp_path: Path, clock: FakeClock) -> AsyncIterator[RegistryCache]:
    store = Store(tmp_path / "site.db")
    await store.open()
    try:
        yield RegistryCache(store, clock=clock)
    finally:
        await store.close()


@pytest_asyncio.fixture
async def browsing(
    site: FakeOllamaSite, fake: FakeRegistry, clocked: RegistryCache
) -> AsyncIterator[OllamaLibraryRegistry]:
    registry = OllamaLibraryRegistry(clocked, base_url=fake.url, site_url=site.url)
    yield registry
    await registry.aclose()


def _closed_url() -> str:
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_search_returns_the_sites_results(
    browsing: OllamaLibraryRegistry, site: FakeOllamaSite
) -> None:
    result = await browsing.search(ModelSearchQuery(query="llama"))
    assert [m.id for m in result.models] == ["llama3.1", "llama3.2", "llama3.2-vision"]
    assert site.requests == ["/search?q=llama"]
    assert result.cached_age_seconds is None and not result.has_more
    llama = result.models[1]
    assert llama.registry is ModelRegistryType.OLLAMA_LIBRARY
    assert llama.description == "Meta's Llama 3.2 goes small with 1B and 3B models."
    assert llama.downloads == 51_400_000
    assert sizes_of(llama) == ("1b", "3b") and capabilities_of(llama) == ("tools",)
    assert tag_count_of(llama) == 63
    assert llama.parameter_count == "1B"  # the smallest size: what the fit badge rates
    assert llama.updated_at is not None and llama.updated_at.year == 2024
    assert llama.homepage == f"{site.url}/library/llama3.2"


async def test_an_empty_query_is_the_popular_list_read_page_by_page(
    browsing: OllamaLibraryRegistry, site: FakeOllamaSite
) -> None:
    top = await browsing.trending(3)
    assert [m.id for m in top] == ["deepseek-r1", "llama3.2", "nomic-embed-text"]
    assert site.requests == ["/search?o=popular"]
    everything = await browsing.search(ModelSearchQuery(take=10))
    assert [m.id for m in everything.models][-1] == "mistral"  # from page 2
    assert site.requests[-1] == "/search?o=popular&page=2"
    assert everything.total_count == 6 and not everything.has_more


async def test_filters_a_listing_can_answer(browsing: OllamaLibraryRegistry) -> None:
    tiny = await browsing.search(ModelSearchQuery(max_size=ModelSizeCategory.TINY, take=10))
    # A model passes when one of its sizes does; one without sizes cannot be checked.
    assert "qwen3" in [m.id for m in tiny.models] and "nomic-embed-text" not in tiny.models
    assert "mistral" not in [m.id for m in tiny.models]
    by_name = await browsing.search(ModelSearchQuery(sort=ModelSortOrder.NAME, take=3))
    assert [m.id for m in by_name.models] == ["deepseek-r1", "gemma3", "llama3.2"]
    others = await browsing.search(ModelSearchQuery(author="someuser"))
    assert others.models == ()
    # GGUF/quantization filters have nothing to check in a listing: they do not empty it.
    gguf = await browsing.search(ModelSearchQuery(only_gguf=True, take=3))
    assert len(gguf.models) == 3


async def test_searches_are_cached_then_served_with_their_age_when_offline(
    browsing: OllamaLibraryRegistry, site: FakeOllamaSite, clock: FakeClock
) -> None:
    first = await browsing.search(ModelSearchQuery(query="llama"))
    clock.advance(30 * 60)
    again = await browsing.search(ModelSearchQuery(query="llama"))
    assert again == first and len(site.requests) == 1  # fresh for an hour

    clock.advance(2 * 3600)
    site.fail_next = (503, {})
    stale = await browsing.search(ModelSearchQuery(query="llama"))
    assert stale.models == first.models
    assert stale.cached_age_seconds == pytest.approx(2.5 * 3600)
    assert len(site.requests) == 2  # it asked, the site failed, the cache answered


async def test_offline_without_a_cache_is_one_clear_error(clocked: RegistryCache) -> None:
    registry = OllamaLibraryRegistry(clocked, site_url=_closed_url())
    try:
        with pytest.raises(RegistryOfflineError, match="cannot be reached") as caught:
            await registry.search(ModelSearchQuery(query="llama"))
    finally:
        await registry.aclose()
    assert "\n" not in str(caught.value)


async def test_a_restart_serves_from_the_store_while_the_site_is_down(
    browsing: OllamaLibraryRegistry,
    clocked: RegistryCache,
    clock: FakeClock,
    site: FakeOllamaSite,
) -> None:
    found = await browsing.search(ModelSearchQuery(query="llama"))
    await browsing.get_model("llama3.2")
    clock.advance(timedelta(days=3).total_seconds())
    site.down = True
    offline = OllamaLibraryRegistry(clocked, site_url=site.url)
    try:
        result = await offline.search(ModelSearchQuery(query="llama"))
        model = await offline.get_model("llama3.2")
    finally:
        await offline.aclose()
    assert [m.id for m in result.models] == [m.id for m in found.models]
    assert result.cached_age_seconds == pytest.approx(3 * 86400)
    assert model is not None and len(model.variants) == 6


async def test_a_model_without_a_tag_is_its_tags_page(
    browsing: OllamaLibraryRegistry, site: FakeOllamaSite
) -> None:
    model = await browsing.get_model("llama3.2")
    assert model is not None
    assert site.requests == ["/library/llama3.2/tags"]
    ids = [v.variant_id for v in model.variants]
    assert ids[0] == "llama3.2:1b-instruct-q4_K_M"  # smallest first
    assert "llama3.2:90b-cloud" not in ids  # no weights to pull
    by_id = {v.variant_id: v for v in model.variants}
    assert by_id["llama3.2:1b-instruct-q8_0"].quantization is QuantizationType.Q8_0
    assert by_id["llama3.2:3b"].size_bytes == 2_000_000_000
    assert all(v.download_url is None for v in model.variants)  # the manifest says, at pull
    assert model.recommended_variant == by_id["llama3.2:3b"]  # what latest points at
    assert await browsing.get_variants("llama3.2") == list(model.variants)
    assert len(site.requests) == 1  # cached


async def test_a_name_with_its_tag_still_resolves_through_the_registry(
    browsing: OllamaLibraryRegistry, site: FakeOllamaSite, fake: FakeRegistry
) -> None:
    model = await browsing.get_model("llama3.2:3b")
    assert model is not None and model.variants[0].sha256 is not None
    assert site.requests == [] and fake.manifest_requests() == 1


async def test_a_full_name_typed_in_search_opens_that_tag(
    browsing: OllamaLibraryRegistry, site: FakeOllamaSite
) -> None:
    found = await browsing.search(ModelSearchQuery(query="llama3.2:3b"))
    (model,) = found.models
    assert model.id == "llama3.2:3b" and model.variants[0].download_url is not None
    assert (await browsing.search(ModelSearchQuery(query="llama3.2:70b"))).models == ()
    assert site.requests == []  # the registry answered, not the site's search


async def test_unknown_models_and_changed_pages(
    browsing: OllamaLibraryRegistry, site: FakeOllamaSite
) -> None:
    assert await browsing.get_model("nosuchmodel") is None
    with pytest.raises(ModelNotFoundError, match="nosuchmodel"):
        await browsing.get_variants("nosuchmodel")
    site.searches[("llama", 1)] = page("search_changed.html")
    with pytest.raises(LibraryPageChangedError, match="search page changed"):
        await browsing.search(ModelSearchQuery(query="llama"))


async def test_limitations_tell_what_the_site_gives(browsing: OllamaLibraryRegistry) -> None:
    text = " ".join(browsing.limitations)
    assert "read from ollama.com's pages" in text
    assert "names you have opened" not in text  # the old search over known names is gone
    assert all(s.endswith(".") and "\n" not in s for s in browsing.limitations)


async def test_pulling_a_listed_tag_queues_what_its_manifest_names(
    browsing: OllamaLibraryRegistry, fake: FakeRegistry
) -> None:
    queued: list[tuple[RemoteModel, ModelVariant]] = []

    async def start_download(model: RemoteModel, variant: ModelVariant) -> ModelDownload:
        queued.append((model, variant))
        now = datetime.now(UTC)
        return ModelDownload("d1", model, variant, DownloadStatus.QUEUED, variant.size_bytes, now)

    async def no_hardware() -> HardwareCapabilities:
        raise AssertionError("not needed to queue a download")

    service = DiscoveryService(
        registries=[browsing], hardware=no_hardware, start_download=start_download, bus=EventBus()
    )
    listed = await browsing.get_model("llama3.2")
    assert listed is not None
    three_b = next(v for v in listed.variants if v.variant_id == "llama3.2:3b")
    await service.download(listed, three_b)
    ((model, variant),) = queued
    assert model.id == "llama3.2:3b"
    assert variant.sha256 == hashlib.sha256(WEIGHTS).hexdigest()  # the registry's, not a guess
    assert variant.download_url is not None and variant.download_url.startswith(fake.url)

    missing = replace(three_b, variant_id="llama3.2:70b")
    with pytest.raises(ModelNotFoundError, match=r"llama3\.2:70b"):
        await service.download(listed, missing)
    assert len(queued) == 1

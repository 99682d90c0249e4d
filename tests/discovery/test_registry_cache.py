"""The registry cache: rows in the store, TTLs, and the stale answers served when the Hub cannot
answer (HF_HUB_OFFLINE, a stopped server, 429)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from lexitui.discovery.errors import RateLimitedError, RegistryOfflineError
from lexitui.discovery.huggingface import HuggingFaceRegistry, StaleNotice
from lexitui.discovery.records_json import dumps, record_from_json
from lexitui.domain.discovery import (
    FacetValue,
    ModelSearchQuery,
    ModelSearchResult,
    ModelVariant,
    RemoteModel,
    SearchFacet,
)
from lexitui.domain.enums import ModelFormat, ModelRegistryType, ModelTask, QuantizationType
from lexitui.store import Store
from lexitui.store.search_cache import (
    DETAILS_TTL_S,
    KEEP_S,
    SEARCH_TTL_S,
    RegistryCache,
    cache_key,
)
from tests.discovery.conftest import FakeClock
from tests.fakes.hub_server import FakeHub

TINY = "lexitui-fixtures/tiny-random-llama-GGUF"
QUERY = ModelSearchQuery(query="llama", only_gguf=True)


def sample_model() -> RemoteModel:
    variant = ModelVariant(
        "Q8_0",
        "m-Q8_0.gguf",
        ModelFormat.GGUF,
        1234,
        quantization=QuantizationType.Q8_0,
        sha256="ab" * 32,
        files=("m-Q8_0.gguf",),
    )
    return RemoteModel(
        id="o/m",
        name="m",
        registry=ModelRegistryType.HUGGING_FACE,
        tasks=(ModelTask.GENERAL_CHAT,),
        variants=(variant,),
        recommended_variant=variant,
        tags=("gguf", "llama"),
        created_at=datetime(2024, 7, 23, 15, 36, tzinfo=UTC),
        gated="manual",
    )


def test_records_round_trip_through_json() -> None:
    model = sample_model()
    result = ModelSearchResult(
        models=(model,),
        total_count=1,
        facets=(SearchFacet("author", (FacetValue("o", 1),)),),
        cached_age_seconds=12.5,
        has_more=True,
    )
    assert record_from_json(ModelSearchResult, _reload(result)) == result
    assert record_from_json(RemoteModel, _reload(model)) == model
    assert record_from_json(ModelVariant, _reload(model.variants[0])) == model.variants[0]


def _reload(record: object) -> dict[str, object]:
    loaded = json.loads(dumps(record))
    assert isinstance(loaded, dict)
    return loaded


def test_cache_keys_are_stable() -> None:
    assert cache_key("search", QUERY.to_json_dict()) == cache_key("search", QUERY.to_json_dict())
    other = replace(QUERY, skip=20)
    assert cache_key("search", QUERY.to_json_dict()) != cache_key("search", other.to_json_dict())
    assert cache_key("search", {"a": 1, "b": 2}) == cache_key("search", {"b": 2, "a": 1})


async def test_get_put_ages_and_prunes(store: Store, clock: FakeClock) -> None:
    cache = RegistryCache(store, clock=clock)
    await cache.put("k", "search", '{"x": 1}')
    assert await cache.get("k", SEARCH_TTL_S) == ({"x": 1}, 0.0)
    clock.advance(SEARCH_TTL_S + 1)
    assert await cache.get("k", SEARCH_TTL_S) is None
    payload, age = await cache.get("k", None) or (None, None)
    assert payload == {"x": 1} and age == SEARCH_TTL_S + 1
    assert await cache.get("missing", None) is None
    clock.advance(KEEP_S)
    await cache.put("fresh", "model", "[]")
    assert await cache.get("k", None) is None  # older than KEEP_S: pruned on the last write


async def test_fresh_answers_come_from_the_cache_until_the_ttl(
    registry: HuggingFaceRegistry, hub: FakeHub, clock: FakeClock
) -> None:
    first = await registry.search(QUERY)
    clock.advance(SEARCH_TTL_S - 1)
    again = await registry.search(QUERY)
    assert again == first and again.cached_age_seconds is None
    assert len(hub.hub_calls("/api/models")) == 1
    clock.advance(2)
    await registry.search(QUERY)
    assert len(hub.hub_calls("/api/models")) == 2
    await registry.get_model(TINY)
    clock.advance(DETAILS_TTL_S - 1)
    await registry.get_model(TINY)
    assert len(hub.hub_calls(f"/api/models/{TINY}")) == 2  # details + tree, once
    clock.advance(2)
    await registry.get_model(TINY)
    assert len(hub.hub_calls(f"/api/models/{TINY}")) == 4


async def test_rate_limited_serves_the_cache_with_its_age(
    registry: HuggingFaceRegistry, hub: FakeHub, clock: FakeClock, stale_notices: list[StaleNotice]
) -> None:
    fresh = await registry.search(QUERY)
    await registry.get_model(TINY)
    clock.advance(2 * DETAILS_TTL_S)
    hub.rate_limit(times=3, retry_after=30)
    stale = await registry.search(QUERY)
    assert stale.models == fresh.models and stale.cached_age_seconds == 2 * DETAILS_TTL_S
    model = await registry.get_model(TINY)
    assert model is not None and model.variants
    assert [n.subject for n in stale_notices] == ["search", TINY, TINY]
    assert "rate-limiting" in stale_notices[-1].reason
    hub.rate_limit(times=1, retry_after=30)
    with pytest.raises(RateLimitedError, match="retry after 30 s") as limited:
        await registry.search(ModelSearchQuery(query="never asked before"))
    assert limited.value.retry_after_s == 30


async def test_offline_mode_serves_the_cache_without_a_request(
    registry: HuggingFaceRegistry, hub: FakeHub, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = await registry.search(QUERY)
    clock.advance(600)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    calls = len(hub.calls)
    offline = await registry.search(QUERY)
    assert offline.models == fresh.models and offline.cached_age_seconds == 600
    with pytest.raises(RegistryOfflineError, match="HF_HUB_OFFLINE"):
        await registry.get_model(TINY)
    assert len(hub.calls) == calls


async def test_unreachable_hub_serves_the_cache(
    registry: HuggingFaceRegistry, hub: FakeHub, clock: FakeClock
) -> None:
    await registry.get_model(TINY)
    fresh = await registry.search(QUERY)
    clock.advance(DETAILS_TTL_S + 60)
    await hub.stop()
    stale = await registry.search(QUERY)
    assert stale.models == fresh.models and stale.cached_age_seconds == DETAILS_TTL_S + 60
    model = await registry.get_model(TINY)
    assert model is not None and len(model.variants) == 2
    with pytest.raises(RegistryOfflineError, match="cannot be reached"):
        await registry.search(ModelSearchQuery(query="not cached"))


async def test_the_token_never_reaches_the_cache(
    registry: HuggingFaceRegistry, hub: FakeHub, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "hf_secretValue1234567890abcdef"
    hub.tokens[token] = "someone"
    monkeypatch.setenv("HF_TOKEN", token)
    await registry.search(QUERY)
    await registry.get_model(TINY)
    assert all(c.user == "someone" for c in hub.hub_calls())
    rows = await store.fetch_all("SELECT key, kind, fetched_at, payload FROM registry_cache")
    assert {r["kind"] for r in rows} == {"search", "model", "variants"}
    assert not any(token in "|".join(map(str, tuple(r))) for r in rows)
    assert not any("secretValue" in str(tuple(r)) for r in rows)


async def test_registry_cache_table_exists(store: Store) -> None:
    rows = await store.fetch_all("PRAGMA table_info(registry_cache)")
    assert [r["name"] for r in rows] == ["key", "kind", "fetched_at", "payload"]

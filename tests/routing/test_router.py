"""The router's decisions: the nine strategies, per-task routing, the local limits (context fit,
token bounds, concurrency), cooldowns, budgets and what every decision says about itself."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from lexitui.domain.language_model import LanguageModelRequest, Message, TaskType
from lexitui.domain.routing import FallbackConfig, RoutingConfig, RoutingOptions, RoutingStrategy
from lexitui.routing.cooldowns import Cooldowns
from lexitui.routing.provider import LanguageModelProvider
from lexitui.routing.router import LlmRouter, NoRoute
from tests.routing.scripted import ScriptedProvider

S = RoutingStrategy
ASK = LanguageModelRequest(messages=(Message("user", "Say hi"),), max_tokens=16)


def build(
    *providers: ScriptedProvider,
    config: RoutingConfig | None = None,
    costs: dict[str, Decimal | None] | None = None,
    latencies: dict[str, float | None] | None = None,
    quality: dict[str, float] | None = None,
    budget: str | None = None,
    cooldowns: Cooldowns | None = None,
) -> LlmRouter:
    def cost_of(p: LanguageModelProvider, model: str, i: int, o: int) -> Decimal | None:
        return (costs or {}).get(p.provider_id)

    def latency_of(p: LanguageModelProvider, model: str, o: int) -> timedelta | None:
        ms = (latencies or {}).get(p.provider_id)
        return None if ms is None else timedelta(milliseconds=ms)

    return LlmRouter(
        lambda: providers,
        config or RoutingConfig(),
        cooldowns or Cooldowns(FallbackConfig()),
        cost_of=cost_of,
        latency_of=latency_of,
        quality_of=lambda pid: (quality or {}).get(pid, 0.5),
        budget_blocked=lambda: budget,
    )


def order(router: LlmRouter, strategy: S, request: LanguageModelRequest = ASK) -> list[str]:
    plan = router.plan(request, RoutingOptions(strategy=strategy))
    return [p.provider_id for p, _ in plan.chain]


def test_prefer_local_and_prefer_cloud() -> None:
    local, a, b = (
        ScriptedProvider("local", is_local=True),
        ScriptedProvider("a"),
        ScriptedProvider("b"),
    )
    router = build(local, a, b, config=RoutingConfig(preferred_cloud_provider="b"))
    assert order(router, S.PREFER_LOCAL) == ["local", "b", "a"]
    assert order(router, S.PREFER_CLOUD) == ["b", "a", "local"]
    assert order(router, S.LOCAL_ONLY) == ["local"]
    assert order(router, S.CLOUD_ONLY) == ["b", "a"]


def test_cost_latency_quality_orders_put_unknowns_last() -> None:
    local, a, b = (
        ScriptedProvider("local", is_local=True),
        ScriptedProvider("a"),
        ScriptedProvider("b"),
    )
    router = build(
        local,
        a,
        b,
        costs={"local": Decimal("0.0001"), "a": None, "b": Decimal("0.002")},
        latencies={"local": 900.0, "a": 300.0, "b": None},
        quality={"local": 0.4, "a": 0.7, "b": 0.9},
    )
    assert order(router, S.COST_OPTIMIZED) == ["local", "b", "a"]
    assert order(router, S.PERFORMANCE_OPTIMIZED) == ["a", "local", "b"]
    assert order(router, S.QUALITY_OPTIMIZED) == ["b", "a", "local"]
    plan = router.plan(ASK, RoutingOptions(strategy=S.COST_OPTIMIZED))
    assert plan.decision.estimated_cost == Decimal("0.0001")
    assert plan.decision.estimated_latency == timedelta(milliseconds=900)
    assert "lowest estimated cost" in plan.decision.reason


def test_round_robin_rotates_and_load_balanced_picks_the_idlest() -> None:
    local = ScriptedProvider("local", is_local=True, busy=1)
    a, b = ScriptedProvider("a", busy=4), ScriptedProvider("b", busy=0)
    router = build(local, a, b)
    firsts = [order(router, S.ROUND_ROBIN)[0] for _ in range(6)]
    assert firsts == ["a", "b", "local", "a", "b", "local"]
    # local: 1 of 2 slots (50%); a: 4 of 8 (50%), b: idle
    assert order(router, S.LOAD_BALANCED)[0] == "b"


def test_local_unavailable_falls_to_cloud_with_the_reason() -> None:
    local = ScriptedProvider(
        "local",
        is_local=True,
        available=False,
        why_not="local model unavailable: no model is loaded",
    )
    router = build(local, ScriptedProvider("openai"))
    plan = router.plan(ASK)
    assert plan.decision.provider_id == "openai"
    assert plan.decision.was_fallback
    assert (
        plan.decision.reason
        == "Used cloud (openai) due to: local model unavailable: no model is loaded"
    )
    assert plan.decision.considered_providers == ("local", "openai")
    assert plan.skipped["local"].startswith("local model unavailable")


def test_a_prompt_too_long_for_the_local_context_goes_elsewhere() -> None:
    local = ScriptedProvider("local", is_local=True, context=512)
    router = build(local, ScriptedProvider("openai"))
    long = LanguageModelRequest(messages=(Message("user", "word " * 600),), max_tokens=64)
    plan = router.plan(long)
    assert plan.decision.provider_id == "openai"
    assert "does not fit the local model's context of 512" in plan.decision.reason
    assert router.plan(ASK).decision.provider_id == "local"


def test_min_and_max_tokens_for_local_and_the_concurrency_limit() -> None:
    local = ScriptedProvider("local", is_local=True)
    router = build(local, ScriptedProvider("c"), config=RoutingConfig(local_max_concurrent=2))
    small = router.plan(ASK, RoutingOptions(min_tokens_for_local=100))
    assert (
        small.decision.provider_id == "c"
        and "under the local minimum of 100" in small.decision.reason
    )
    big = router.plan(ASK, RoutingOptions(max_tokens_for_local=2))
    assert big.decision.provider_id == "c" and "over the local maximum of 2" in big.decision.reason
    local.busy = 2
    assert "busy" in router.plan(ASK).decision.reason


def test_task_routing_sends_code_to_cloud_and_summaries_local() -> None:
    local, cloud = ScriptedProvider("local", is_local=True), ScriptedProvider("anthropic")
    config = RoutingConfig(
        task_routing={
            TaskType.CODE_GENERATION: S.PREFER_CLOUD,
            TaskType.SUMMARIZATION: S.PREFER_LOCAL,
        },
        default_strategy=S.PREFER_LOCAL,
    )
    router = build(local, cloud, config=config)
    code = router.plan(LanguageModelRequest(prompt="write a sort", task=TaskType.CODE_GENERATION))
    summary = router.plan(
        LanguageModelRequest(prompt="summarise this", task=TaskType.SUMMARIZATION)
    )
    assert (code.decision.provider_id, code.decision.used_strategy) == ("anthropic", S.PREFER_CLOUD)
    assert (summary.decision.provider_id, summary.decision.used_strategy) == (
        "local",
        S.PREFER_LOCAL,
    )


def test_cooling_down_and_over_budget_providers_are_skipped() -> None:
    clock = [0.0]
    cooldowns = Cooldowns(
        FallbackConfig(allowed_fails=1, cooldown=timedelta(seconds=30)), lambda: clock[0]
    )
    cooldowns.failure("a")
    local = ScriptedProvider("local", is_local=True, available=False)
    router = build(local, ScriptedProvider("a"), ScriptedProvider("b"), cooldowns=cooldowns)
    plan = router.plan(ASK, RoutingOptions(strategy=S.CLOUD_ONLY))
    assert [p.provider_id for p, _ in plan.chain] == ["b"]
    assert "cooling down for 30 s" in plan.skipped["a"]
    clock[0] = 31
    assert order(router, S.CLOUD_ONLY) == ["a", "b"]
    broke = build(local, ScriptedProvider("a"), budget="the daily cloud budget of $1 is spent")
    with pytest.raises(NoRoute, match="daily cloud budget"):
        broke.plan(ASK)


def test_a_model_name_pins_its_provider_and_no_fallback_keeps_one() -> None:
    local = ScriptedProvider("local", is_local=True)
    cloud = ScriptedProvider("openai", models=("gpt-4o-mini",))
    router = build(local, cloud)
    pinned = router.plan(LanguageModelRequest(prompt="x", model="gpt-4o-mini"))
    assert [(p.provider_id, m) for p, m in pinned.chain] == [("openai", "gpt-4o-mini")]
    prefixed = router.plan(LanguageModelRequest(prompt="x", model="openai:gpt-4o"))
    assert prefixed.chain[0][1] == "gpt-4o"
    single = router.plan(ASK, RoutingOptions(allow_fallback=False))
    assert len(single.chain) == 1


def test_nothing_eligible_says_why_for_each_provider() -> None:
    router = build(
        ScriptedProvider("local", is_local=True, available=False, why_not="no model is loaded")
    )
    with pytest.raises(NoRoute) as caught:
        router.plan(ASK)
    assert "local: no model is loaded" in str(caught.value)


def test_the_local_limit_follows_the_loaded_models_slots() -> None:
    # A model with 4 slots takes 4 requests at once even where [routing] allows 2.
    local = ScriptedProvider("local", is_local=True, engine_slots=4)
    router = build(local, ScriptedProvider("c"), config=RoutingConfig(local_max_concurrent=2))
    for busy in (2, 3):
        local.busy = busy
        assert router.plan(ASK).decision.provider_id == "local"
    local.busy = 4  # every slot taken: the next one may go elsewhere
    decision = router.plan(ASK).decision
    assert decision.provider_id == "c"
    assert "busy (4 requests in flight, at most 4)" in decision.reason


def test_a_busy_local_model_with_nowhere_else_to_go_takes_the_request_in_line() -> None:
    local = ScriptedProvider("local", is_local=True, engine_slots=4, busy=6)
    cloud_down = ScriptedProvider("c", available=False)
    plan = build(local, cloud_down, config=RoutingConfig(local_max_concurrent=2)).plan(ASK)
    assert plan.decision.provider_id == "local"
    assert "it waits for a free slot" in plan.decision.reason
    assert "local" not in plan.skipped
    only = build(local).plan(ASK, RoutingOptions(strategy=S.LOCAL_ONLY))
    assert only.decision.provider_id == "local"

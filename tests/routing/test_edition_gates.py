"""The router under each edition's view of the config: what a config names beyond the user's
tier is left out with a word in the reason (a WriterPro user keeps routing), what a request or
a change of the routing choices asks beyond it is refused, and below Teams one provider answers
each request."""

from __future__ import annotations

import pytest

from lexitui.domain.language_model import LanguageModelRequest, Message, TaskType
from lexitui.domain.routing import FallbackConfig, RoutingConfig, RoutingOptions, RoutingStrategy
from lexitui.editions.entitlements import OPEN, Entitlements
from lexitui.editions.refusals import NotEntitled
from lexitui.editions.tiers import TIER_LIMITS, Tier
from lexitui.routing.cooldowns import Cooldowns
from lexitui.routing.edition_gates import RoutingGates
from lexitui.routing.router import LlmRouter, RoutePlan
from tests.routing.scripted import ScriptedProvider

S = RoutingStrategy
ASK = LanguageModelRequest(messages=(Message("user", "Say hi"),), max_tokens=16)
RICH = RoutingConfig(
    default_strategy=S.QUALITY_OPTIMIZED,
    task_routing={TaskType.CHAT: S.CLOUD_ONLY},
    max_tokens_for_local=2,
)


def gates(tier: Tier) -> RoutingGates:
    return RoutingGates(
        lambda: Entitlements(tier, "ann", "", managed=True, limits=TIER_LIMITS[tier])
    )


def plan(
    tier: Tier,
    config: RoutingConfig,
    *providers: ScriptedProvider,
    chains: dict[TaskType, tuple[str, ...]] | None = None,
) -> tuple[RoutePlan, list[str]]:
    g = gates(tier)
    router = LlmRouter(
        lambda: providers,
        config,
        Cooldowns(FallbackConfig()),
        quality_of=lambda pid: 0.9 if pid == "cloud" else 0.5,
        chain_of=lambda r: g.chain(chains or {}, r.task),
    )
    effective, notes = g.effective(config, ASK, chains or {})
    planned = router.plan(ASK, RoutingOptions(), config=effective)
    g.check_plan(planned)
    return planned, notes


def local_and_cloud(local_up: bool = True) -> tuple[ScriptedProvider, ScriptedProvider]:
    local = ScriptedProvider("local", is_local=True, available=local_up, why_not="no model loaded")
    return local, ScriptedProvider("cloud")


def test_writerpro_routes_a_rich_config_as_prefer_local_and_says_what_was_left_out() -> None:
    planned, notes = plan(Tier.WRITERPRO, RICH, *local_and_cloud())
    assert planned.decision.used_strategy is S.PREFER_LOCAL
    assert [p.provider_id for p, _ in planned.chain] == ["local"]  # no automatic fallback
    assert notes == [
        "[routing] strategy quality_optimized needs Teams: prefer_local used",
        "the local token limits needs Teams: left out",
        "[routing.tasks] chat needs Enterprise: left out",
    ]


def test_teams_keeps_strategies_and_fallbacks_but_not_task_rules() -> None:
    planned, notes = plan(Tier.TEAMS, RICH, *local_and_cloud())
    assert planned.decision.used_strategy is S.QUALITY_OPTIMIZED
    assert "over the local maximum of 2" in planned.skipped["local"]  # the token limit holds
    assert notes == ["[routing.tasks] chat needs Enterprise: left out"]
    enterprise, notes = plan(Tier.ENTERPRISE, RICH, *local_and_cloud())
    assert enterprise.decision.used_strategy is S.CLOUD_ONLY and notes == []


def test_an_unmanaged_machine_routes_the_config_as_it_is() -> None:
    config = RoutingConfig(task_routing={TaskType.CHAT: S.COST_OPTIMIZED})
    assert RoutingGates(lambda: OPEN).effective(config, ASK, {TaskType.CHAT: ("x",)}) == (
        config,
        [],
    )


def test_a_fallback_chain_is_a_rule_of_full_routing() -> None:
    chains = {TaskType.CHAT: ("cloud",)}
    teams, _ = plan(Tier.TEAMS, RoutingConfig(), *local_and_cloud(), chains=chains)
    assert teams.chain[0][0].provider_id == "cloud"
    basic, notes = plan(Tier.WRITERPRO, RoutingConfig(), *local_and_cloud(), chains=chains)
    assert basic.chain[0][0].provider_id == "local"
    assert notes == ["the chat fallback chain needs Teams: left out"]


def test_writerpro_is_not_sent_elsewhere_when_the_first_choice_cannot_answer() -> None:
    with pytest.raises(NotEntitled) as to_cloud:
        plan(Tier.WRITERPRO, RoutingConfig(), *local_and_cloud(local_up=False))
    assert to_cloud.value.message.endswith(
        ": the local model cannot take this request (no model loaded); ask a cloud model "
        "yourself (the prefer_cloud strategy, or a model by its name)"
    )
    cloud_first = RoutingConfig(default_strategy=S.PREFER_CLOUD)
    local, cloud = local_and_cloud()
    cloud.available = False
    with pytest.raises(NotEntitled) as to_local:
        plan(Tier.WRITERPRO, cloud_first, local, cloud)
    assert to_local.value.message.startswith("automatic fallback needs Teams or above")
    assert "ask the local model yourself (the prefer_local strategy" in to_local.value.message
    teams, _ = plan(Tier.TEAMS, cloud_first, local, cloud)
    assert teams.decision.was_fallback and teams.chain[0][0].provider_id == "local"


@pytest.mark.parametrize("strategy", list(S), ids=lambda s: s.value)
def test_a_strategy_asked_by_a_request_beyond_the_basic_ones_needs_teams(strategy: S) -> None:
    basic = strategy in (S.PREFER_LOCAL, S.PREFER_CLOUD, S.LOCAL_ONLY, S.CLOUD_ONLY)
    gates(Tier.TEAMS).check_asked(strategy)
    if basic:
        gates(Tier.WRITERPRO).check_asked(strategy)
        return
    with pytest.raises(NotEntitled, match=r"^full routing options needs Teams or above"):
        gates(Tier.WRITERPRO).check_asked(strategy)


def test_changing_the_routing_choices_beyond_the_edition_is_refused() -> None:
    writerpro = gates(Tier.WRITERPRO)
    now = RoutingConfig(enable_fallback=False)
    writerpro.check_config_change(
        now, RoutingConfig(default_strategy=S.PREFER_CLOUD, enable_fallback=False)
    )
    # A config written for a higher tier does not stop a basic change.
    writerpro.check_config_change(
        RICH, RoutingConfig(**{**RICH.__dict__, "local_timeout_seconds": 5})
    )
    for changed, needs in (
        (
            RoutingConfig(default_strategy=S.ROUND_ROBIN, enable_fallback=False),
            "full routing options",
        ),
        (
            RoutingConfig(task_routing={TaskType.CHAT: S.PREFER_CLOUD}, enable_fallback=False),
            "task routing",
        ),
        (RoutingConfig(enable_fallback=True), "automatic fallback"),
    ):
        with pytest.raises(NotEntitled, match=f"^{needs} needs"):
            writerpro.check_config_change(now, changed)
    gates(Tier.ENTERPRISE).check_config_change(
        now, RoutingConfig(task_routing={TaskType.CHAT: S.ROUND_ROBIN})
    )


def test_orchestration_overrides_are_full_routing_and_task_defaults_task_routing() -> None:
    assert gates(Tier.WRITERPRO).override_note("agent researcher") == (
        "the agent researcher override needs Teams: left out"
    )
    assert gates(Tier.TEAMS).override_note("workflow w1") is None
    assert gates(Tier.TEAMS).override_note("task translation") == (
        "the task translation override needs Enterprise: left out"
    )
    assert gates(Tier.ENTERPRISE).override_note("task translation") is None

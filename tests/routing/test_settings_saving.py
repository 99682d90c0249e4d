"""Saving the Routing screen's choices: only strategy, fallback and [routing.tasks] change, and
what the user wrote around them (providers, budgets, chains, comments aside) stays."""

from __future__ import annotations

from dataclasses import replace

from lexitui.config import Paths, load_config
from lexitui.domain.language_model import TaskType
from lexitui.domain.routing import RoutingStrategy
from lexitui.routing.settings import RoutingSettings, save_routing_choices
from tests.home_config import write_test_config

WRITTEN = """
[routing]
strategy = "prefer_local"
daily_budget_usd = 2.5

[routing.chains]
chat = ["local", "openai"]

[routing.tasks]
translation = "cloud_only"

[providers.openai]
kind = "openai"
model = "gpt-4o-mini"
"""


def test_choices_round_trip_and_the_rest_is_kept(paths: Paths) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    write_test_config(paths.config_file, WRITTEN)
    before = RoutingSettings.from_config(load_config(paths))
    chosen = replace(
        before.routing,
        default_strategy=RoutingStrategy.COST_OPTIMIZED,
        enable_fallback=False,
        task_routing={TaskType.CODE_GENERATION: RoutingStrategy.LOCAL_ONLY},
    )
    save_routing_choices(paths, chosen)

    after = RoutingSettings.from_config(load_config(paths))
    assert after.routing.default_strategy is RoutingStrategy.COST_OPTIMIZED
    assert not after.routing.enable_fallback
    assert after.routing.task_routing == {TaskType.CODE_GENERATION: RoutingStrategy.LOCAL_ONLY}
    assert after.routing.daily_cloud_budget == before.routing.daily_cloud_budget
    assert after.fallback.chains == {TaskType.CHAT: ("local", "openai")}
    assert after.providers == before.providers

    save_routing_choices(paths, replace(chosen, task_routing={}))
    assert "tasks" not in load_config(paths)["routing"]

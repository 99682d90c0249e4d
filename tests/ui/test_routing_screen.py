"""The Routing area as a user drives it: providers, strategy and task changes, a dry run, the
live decision log (this process's requests and rows another process wrote), and the budgets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from lexitui.config import Paths, load_config
from lexitui.domain.language_model import TaskType
from lexitui.domain.routing import RoutingStrategy
from lexitui.ui.app import LexituiApp
from lexitui.ui.routing.dialogs import StrategyPicker
from lexitui.ui.routing.screen import RoutingScreen
from tests.home_config import write_test_config
from tests.ui.routing_fixtures import cloud_record, configure_cloud, local_record
from tests.waiting import until


def text(screen: RoutingScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def rows(screen: RoutingScreen, selector: str) -> list[str]:
    table = screen.query_one(selector, DataTable)
    return [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def open_routing(app: LexituiApp, pilot: Pilot[None]) -> RoutingScreen:
    await app.services_ready.wait()
    await pilot.press("8")
    await until(lambda: isinstance(app.screen, RoutingScreen))
    screen = app.screen
    assert isinstance(screen, RoutingScreen)
    await until(lambda: len(rows(screen, "#routing-providers")) >= 2 and screen.view is not None)
    return screen


async def pick(app: LexituiApp, pilot: Pilot[None], *keys: str) -> None:
    await until(lambda: isinstance(app.screen, StrategyPicker))
    await pilot.press(*keys, "enter")
    await until(lambda: isinstance(app.screen, RoutingScreen))
    await pilot.pause()


async def test_providers_and_strategy_changes_apply_to_the_running_service(
    lexitui_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_cloud(lexitui_home, monkeypatch)
    app = LexituiApp()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_routing(app, pilot)
        local, openai = rows(screen, "#routing-providers")
        assert local.startswith("local local") and "no: local model unavailable" in local
        assert "openai openai gpt-4o-mini env OPENAI_API_KEY yes: ready" in openai
        assert "Default:  prefer local" in text(screen, "#routing-strategy")
        assert "saved to config.toml" in text(screen, "#routing-strategy")

        router = app.services.routing.router
        await pilot.press("s")  # prefer_local is highlighted; cloud_only is three below
        await pick(app, pilot, "down", "down", "down")
        assert router.config.default_strategy == RoutingStrategy.CLOUD_ONLY
        assert "Default:  cloud only" in text(screen, "#routing-strategy")

        await pilot.press("f")
        await until(lambda: not router.config.enable_fallback)
        assert "Fallback: off" in text(screen, "#routing-strategy")

        # code generation is the fourth task: give it its own strategy, then take it away.
        await pilot.press("down", "down", "down", "t")
        await pick(app, pilot, "down", "down")  # default, prefer local, prefer cloud
        assert router.config.task_routing == {
            TaskType.CODE_GENERATION: RoutingStrategy.PREFER_CLOUD
        }
        assert "code generation prefer cloud" in rows(screen, "#routing-tasks")[3]
        assert "chat default (cloud only)" in rows(screen, "#routing-tasks")[0]
        await pilot.press("enter")  # Enter on a task row opens the same picker
        await pick(app, pilot, "home")
        assert router.config.task_routing == {}


async def test_strategy_and_task_changes_are_saved_and_read_back_at_the_next_start(
    lexitui_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_cloud(lexitui_home, monkeypatch)
    app = LexituiApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await open_routing(app, pilot)
        await pilot.press("s")  # prefer local -> prefer cloud
        await pick(app, pilot, "down")
        await pilot.press("f")
        await until(lambda: not app.services.routing.router.config.enable_fallback)
        await pilot.press("down", "down", "down", "t")  # code generation -> local only
        await pick(app, pilot, "down", "down", "down")
        await pilot.press("q")

    config = load_config(Paths.from_env())
    assert config["routing"]["strategy"] == "prefer_cloud"
    assert config["routing"]["tasks"] == {"code_generation": "local_only"}
    # What the screen did not change stays as the user wrote it.
    assert config["routing"]["daily_budget_usd"] == 1.0
    assert config["providers"]["openai"]["model"] == "gpt-4o-mini"

    again = LexituiApp()
    async with again.run_test(size=(160, 48)) as pilot:
        screen = await open_routing(again, pilot)
        router = again.services.routing.router
        assert router.config.default_strategy == RoutingStrategy.PREFER_CLOUD
        assert not router.config.enable_fallback
        assert router.config.task_routing == {TaskType.CODE_GENERATION: RoutingStrategy.LOCAL_ONLY}
        assert "code generation local only" in rows(screen, "#routing-tasks")[3]
        await pilot.press("down", "down", "down", "t")  # back to the default: no [routing.tasks]
        await pick(again, pilot, "home")
        await pilot.press("q")
    assert "tasks" not in load_config(Paths.from_env())["routing"]


async def test_a_dry_run_shows_where_a_prompt_would_go_and_why(
    lexitui_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_cloud(lexitui_home, monkeypatch)
    app = LexituiApp()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_routing(app, pilot)
        await pilot.press("p")
        prompt = screen.query_one("#routing-try", Input)
        assert prompt.has_focus
        prompt.value = "Write a haiku about routers"
        await pilot.press("enter")
        await until(lambda: "openai" in text(screen, "#routing-decision"))
        said = text(screen, "#routing-decision")
        assert "→ openai · gpt-4o-mini" in said
        assert "local model unavailable: no model is loaded" in said
        assert "strategy prefer local, task creative writing" in said  # read from the prompt
        assert "Estimated cost: $" in said
        await pilot.press("escape")  # leaves the input: number keys switch areas again
        assert not prompt.has_focus
        # Nothing was sent: no request was recorded.
        assert await app.services.routing.recorder.rows.recent() == []


async def test_no_route_is_explained(lexitui_home: Path) -> None:
    # No cloud provider and no local model (none loaded, none loaded on demand): nobody can answer.
    write_test_config(lexitui_home / "config" / "config.toml", "[runtime]\nload_on_demand = false")
    app = LexituiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.services_ready.wait()
        await pilot.press("8")
        await until(lambda: isinstance(app.screen, RoutingScreen))
        screen = app.screen
        assert isinstance(screen, RoutingScreen)
        await until(lambda: screen.view is not None)
        assert "No routed requests yet: run `lexitui serve`" in text(screen, "#routing-log-title")
        screen.query_one("#routing-try", Input).value = "hello"
        await pilot.press("p", "enter")
        await until(lambda: "No route" in text(screen, "#routing-decision"))
        assert "local model unavailable" in text(screen, "#routing-decision")


async def test_the_decision_log_is_live_and_budgets_show_spend(
    lexitui_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_cloud(lexitui_home, monkeypatch, daily=1.0)
    app = LexituiApp()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_routing(app, pilot)
        service = app.services.routing
        now = datetime.now(UTC)

        # A request routed by this process: the screen reads again when it is announced.
        first = local_record(now - timedelta(seconds=5))
        await service.recorder.rows.add(first)
        service.records.on_next(first)
        await until(lambda: len(rows(screen, "#routing-log")) == 1, 2)
        assert "local, saved $0.02" in rows(screen, "#routing-log")[0]

        # Rows another process (lexitui serve) wrote: the store says they changed.
        await service.recorder.rows.add(cloud_record(now, cost="0.25"))
        await service.recorder.rows.add(cloud_record(now - timedelta(seconds=1), cost=None))
        await until(lambda: len(rows(screen, "#routing-log")) == 3, 5)
        newest, unpriced, oldest = rows(screen, "#routing-log")
        assert "code generation openai gpt-4o-mini yes 430 1430 $0.25 Used cloud" in newest
        assert "$0.25" in newest and "unknown" in unpriced and "local" in oldest
        assert "$0.25 / $1.00" in text(screen, "#routing-budgets")
        assert "$0.25 / $50.00" in text(screen, "#routing-budgets")


async def test_a_failed_request_says_why(
    lexitui_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_cloud(lexitui_home, monkeypatch, daily=0.1)
    app = LexituiApp()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_routing(app, pilot)
        rows_store = app.services.routing.recorder.rows
        now = datetime.now(UTC)
        await rows_store.add(cloud_record(now - timedelta(seconds=2), cost="0.2"))
        await rows_store.add(cloud_record(now, cost=None, success=False))
        screen.reload()
        await until(lambda: len(rows(screen, "#routing-log")) == 2)
        assert "failed: openai: connection refused" in rows(screen, "#routing-log")[0]
        assert "daily cloud budget of $0.1 is spent" in text(screen, "#routing-budgets")


def test_figures_are_never_made_up() -> None:
    from decimal import Decimal

    from lexitui.domain.routing import SavingsReport
    from lexitui.ui.routing.format import clock, cost_cell, savings_text, usd

    assert [usd(None), usd(Decimal(0)), usd(Decimal("0.000155")), usd(Decimal("1.5"))] == [
        "unknown", "$0", "$0.000155", "$1.50",
    ]  # fmt: skip
    now = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
    unpriced = local_record(now, avoided="0")
    assert cost_cell(unpriced) == "local"  # no reference price: nothing claimed as saved
    assert cost_cell(cloud_record(now, cost=None)) == "unknown"
    assert cost_cell(cloud_record(now, cost=None, success=False)) == "-"
    assert clock(unpriced, now.date()) == "12:00:00"
    assert clock(local_record(now - timedelta(days=2)), now.date()) == "03-12 12:00"
    said = savings_text(SavingsReport(period=timedelta(days=7)))
    assert "No reference price" in said and "avoided" not in said

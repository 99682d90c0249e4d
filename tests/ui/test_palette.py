"""The command palette runs every area's actions, read from the area screens' keys."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette

from lexitui.ui.app import LexituiApp
from lexitui.ui.commands import LexituiCommands, area_actions
from lexitui.ui.routing.dialogs import StrategyPicker
from lexitui.ui.routing.screen import RoutingScreen
from lexitui.ui.shell.registry import screen_class
from tests.waiting import until


async def found(app: LexituiApp, query: str) -> list[str]:
    provider = LexituiCommands(app.screen)
    return [hit.text or str(hit.match_display) async for hit in provider.search(query)]


async def test_the_palette_finds_the_actions_of_every_area() -> None:
    app = LexituiApp()
    async with app.run_test(size=(120, 40)):
        await app.services_ready.wait()
        assert "Runtime: Benchmark" in await found(app, "bench")
        assert "Runtime: Load model" in await found(app, "load model")
        assert "Discover: Download variant" in await found(app, "download variant")
        assert "Routing: Strategy" in await found(app, "strategy")
        assert "Runtime: Save context" in await found(app, "save context")
        await app.switch_mode("runtime")
        # In the area itself its actions go by their plain names.
        assert "Benchmark" in await found(app, "benchmark")


def test_a_new_key_on_a_screen_is_a_palette_command() -> None:
    names = {(a.area.mode, a.description) for a in area_actions({})}
    for mode in ("hardware", "backends", "discover", "downloads", "models", "runtime", "routing"):
        for binding in screen_class(mode).BINDINGS:
            description = getattr(binding, "description", "")
            if description and getattr(binding, "key", "") != "escape":
                assert (mode, description) in names


async def test_choosing_an_action_of_another_area_goes_there_and_runs_it() -> None:
    app = LexituiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.services_ready.wait()
        await pilot.press("ctrl+p")
        await until(lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"routing: strategy")
        results = app.screen.query_one(CommandList)

        def chosen() -> str:
            option = results.highlighted_option
            return str(option.prompt) if option is not None else ""

        # The list fills as the search runs: wait for the match to be the highlighted one.
        await until(lambda: "Routing: Strategy" in chosen())
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, StrategyPicker))
        assert isinstance(app.screen_stack[-2], RoutingScreen)

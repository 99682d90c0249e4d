"""The Textual application: owns the services, one mode per roadmap area.

Services are built outside (so tests can pass ones built on a temporary ``LEXITUI_HOME``) and
started on mount, stopped on unmount. Number keys switch areas; every binding has an id so the
config file's ``[keys]`` table can remap it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from lexitui.areas import AREAS
from lexitui.services import Services
from lexitui.ui.commands import LexituiCommands
from lexitui.ui.screens.chat import ChatScreen
from lexitui.ui.screens.dashboard import DashboardScreen
from lexitui.ui.screens.help import HelpScreen, describe
from lexitui.ui.screens.models import ModelsScreen
from lexitui.ui.screens.not_built import NotBuiltScreen
from lexitui.ui.style_paths import style

BUILT_SCREENS: dict[str, Callable[[], Screen[None]]] = {
    "dashboard": DashboardScreen,
    "models": ModelsScreen,
    "runtime": ChatScreen,
}


def _modes() -> dict[str, Callable[[], Screen[None]]]:
    """One mode per area; an area not built yet gets the screen that says so."""
    return {
        item.mode: BUILT_SCREENS.get(item.mode) or partial(NotBuiltScreen, item.mode)
        for item in AREAS
    }


class StartingScreen(Screen[None]):
    """Shown for the moment the services take to start, so no area reads a closed store."""

    def compose(self) -> ComposeResult:
        yield Static("Starting lexitui…")


class LexituiApp(App[None]):
    TITLE = "lexitui"
    CSS_PATH = [style("app.tcss")]
    COMMANDS = App.COMMANDS | {LexituiCommands}
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = _modes()  # type: ignore[assignment]
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(item.key, f"switch_mode('{item.mode}')", item.title, id=f"area.{item.mode}")
            for item in AREAS
        ),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(self, services: Services | None = None) -> None:
        super().__init__()
        self.services = services or Services.build()
        self._keymap: dict[str, str] = {}

    def get_default_screen(self) -> Screen[None]:
        return StartingScreen()

    async def on_mount(self) -> None:
        await self.services.start()
        self._keymap = {str(k): str(v) for k, v in self.services.config.get("keys", {}).items()}
        self.set_keymap(self._keymap)
        await self.switch_mode("dashboard")

    async def on_unmount(self) -> None:
        await self.services.stop()

    async def open_chat(self, model_id: str) -> None:
        await self.switch_mode("runtime")
        if isinstance(self.screen, ChatScreen):
            self.screen.pick_model(model_id)

    def action_help(self) -> None:
        sections = {"Everywhere": describe(self.BINDINGS, self._keymap)}
        for screen_type in (ModelsScreen, ChatScreen):
            sections[screen_type.__name__.removesuffix("Screen")] = describe(
                screen_type.BINDINGS, self._keymap
            )
        self.push_screen(HelpScreen(sections))


def run_app() -> int:
    LexituiApp().run()
    return 0

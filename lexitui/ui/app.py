"""The Textual application: owns the services, one mode per roadmap area.

Services are built outside (so tests can pass ones built on a temporary ``LEXITUI_HOME``) or, for
``lexitui``, once the first frame is painted: their modules cost more to import than Textual
itself, and the dashboard's shell needs none of them. They start once built and stop on unmount.
Number keys switch areas; every binding has an id so the config file's ``[keys]`` table can remap
it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.filter import LineFilter
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import WorkerFailed

from lexitui.areas import AREAS
from lexitui.config import ConfigError, Paths
from lexitui.config_check import checked_config
from lexitui.editions.refusals import EditionRefusal
from lexitui.hardware.settings import HardwareSettingsError
from lexitui.ui.commands import LexituiCommands
from lexitui.ui.frames import console_lacks_box_glyphs, frame_variables
from lexitui.ui.shell.not_built import NotBuiltScreen
from lexitui.ui.shell.registry import SCREENS, new_screen
from lexitui.ui.style_paths import style
from lexitui.ui.text import ControlCharacterFilter, markup_safe

if TYPE_CHECKING:
    from lexitui.editions.entitlements import Entitlements
    from lexitui.services import Services

# Start-up failures a user can fix (a broken config, a database from a newer release).
# (and ``StoreError``, imported with the store after the first frame)
USER_ERRORS = (ConfigError, HardwareSettingsError, OSError)


BUILT_SCREENS: dict[str, Callable[[], Screen[None]]] = {
    mode: partial(new_screen, mode) for mode in SCREENS
}


def _modes() -> dict[str, Callable[[], Screen[None]]]:
    """One mode per area; an area not built yet gets the screen that says so."""
    return {
        item.mode: BUILT_SCREENS.get(item.mode) or partial(NotBuiltScreen, item.mode)
        for item in AREAS
    }


class LexituiApp(App[None]):
    TITLE = "lexitui"
    DEFAULT_MODE = "dashboard"
    CSS_PATH = [style("app.tcss"), style("hardware.tcss"), style("discover.tcss")]
    COMMANDS = App.COMMANDS | {LexituiCommands}
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = _modes()  # type: ignore[assignment]
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            # Listed in the help and the palette; the footer keeps its room for each area's keys.
            Binding(
                item.key,
                f"switch_mode('{item.mode}')",
                item.title,
                id=f"area.{item.mode}",
                show=False,
            )
            for item in AREAS
        ),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    # What this user may do, as the header's pill and the footer's tier pills show it; None
    # until it is read, just after the first frame.
    edition: reactive[Entitlements | None] = reactive(None, init=False)

    def __init__(self, services: Services | None = None) -> None:
        # Decided before Textual reads the style sheets (``get_css_variables`` runs in __init__).
        self.ascii_frames = console_lacks_box_glyphs()
        super().__init__()
        self._services = services
        # Checked now, so a bad value is one line before the screen is taken over.
        self._config = services.config if services else checked_config(Paths.from_env())
        self.services_ready = asyncio.Event()
        self._starting: asyncio.Task[None] | None = None
        self._stopping = False
        self._keymap: dict[str, str] = {}
        self._control_filter = ControlCharacterFilter()
        # Why start-up failed, printed by ``run_app`` as one plain line once the screen is gone.
        self.failure: str | None = None

    def get_line_filters(self) -> list[LineFilter]:
        # Every widget's lines pass here on their way to the terminal: outside text that a
        # screen forgot to sanitise still cannot send a control sequence.
        return [self._control_filter, *super().get_line_filters()]

    def get_css_variables(self) -> dict[str, str]:
        return {**super().get_css_variables(), **frame_variables(self.ascii_frames)}

    @property
    def services(self) -> Services:
        """Built here on first use when the app was not given them (normally by the start-up
        task, after the first frame)."""
        if self._services is None:
            from lexitui.services import Services

            self._services = Services.build()
        return self._services

    def on_mount(self) -> None:
        # Textual's own fields (inputs, lists, buttons) get ASCII frames from app.tcss too.
        self.set_class(self.ascii_frames, "-ascii-frames")
        self._keymap = {str(k): str(v) for k, v in self._config.get("keys", {}).items()}
        self.set_keymap(self._keymap)
        # Built and started after the first frame, so that frame waits neither for the services'
        # imports nor for the database; screens await ``services_ready`` before they read.
        self.call_after_refresh(self._begin_start)

    def _begin_start(self) -> None:
        # A plain task, not a worker: workers are cancelled on exit, and a start cut off half-way
        # could leave the database open (its thread would then block the process from exiting).
        if self._starting is None and not self._stopping:
            self._starting = asyncio.create_task(self._start_services())

    async def _start_services(self) -> None:
        from lexitui.store import StoreError

        try:
            # After the first frame (a stat of one file when unmanaged; reading and verifying
            # the license when managed) and before the services start, so every screen that
            # waits for them shows it too.
            self.edition = self.services.entitlements
            self.refresh_bindings()  # the footer names the tier of each key it does not reach
            await self.services.start()
        except (*USER_ERRORS, StoreError) as exc:
            self._fail(f"lexitui: {exc}")
            return
        except Exception as exc:  # anything else must end the app too, never leave it waiting
            self._fail(f"lexitui: could not start: {exc!r}")
            return
        self.services_ready.set()
        self.call_after_refresh(self.services.start_background)

    def _handle_exception(self, error: Exception) -> None:
        # An action the user's edition does not allow is refused by the service that does it,
        # whatever key, worker or handler asked: the refusal is one line, never a traceback.
        refusal = edition_refusal(error)
        if refusal is None:
            super()._handle_exception(error)
            return
        self.notify(markup_safe(refusal.message, 600), severity="warning", timeout=12)

    def _fail(self, line: str) -> None:
        self.failure = line
        self.exit(return_code=1)

    async def on_unmount(self) -> None:
        # Quitting during start-up waits for the start to finish, then stops cleanly.
        self._stopping = True
        if self._starting is not None:
            await asyncio.gather(self._starting, return_exceptions=True)
        if self._services is not None:  # quit before they were built: nothing to stop
            await self._services.stop()

    @property
    def user_keymap(self) -> dict[str, str]:
        """The config's ``[keys]`` table (binding id -> keys), as help and the palette show it."""
        return dict(self._keymap)

    async def open_chat(self, model_id: str) -> None:
        """Switch to the Runtime area and chat with ``model_id`` (loading it if needed)."""
        from lexitui.ui.runtime.screen import RuntimeScreen

        await self.switch_mode("runtime")
        if isinstance(self.screen, RuntimeScreen):
            self.screen.pick_model(model_id)

    def action_help(self) -> None:
        from lexitui.ui.shell.help import HelpScreen, help_sections

        here = self.screen.name if self.screen.name in SCREENS else None
        self.push_screen(HelpScreen(help_sections(self.BINDINGS, self.user_keymap), here))


def edition_refusal(error: BaseException) -> EditionRefusal | None:
    """The edition refusal behind ``error`` (a failed worker wraps what it raised)."""
    if isinstance(error, EditionRefusal):
        return error
    if isinstance(error, WorkerFailed) and isinstance(error.error, EditionRefusal):
        return error.error
    return None


def run_app() -> int:
    app = LexituiApp()
    app.run()
    if app.failure is not None:
        print(app.failure, file=sys.stderr)
    return app.return_code or 0

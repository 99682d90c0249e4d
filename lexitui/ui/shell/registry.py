"""Which screen shows each area, imported on first use.

The app builds its modes from this table and the help screen and the command palette read each
area's keys from it, so a new area (or a new key on one) reaches all three at once. Screens are
imported only when asked for: the chat's Markdown stack, for one, costs time the dashboard does
not need at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from textual.binding import BindingType

    from lexitui.ui.shell.area_screen import AreaScreen

# area mode -> (module, class) of the screen that shows it
SCREENS: dict[str, tuple[str, str]] = {
    "dashboard": ("lexitui.ui.dashboard.screen", "DashboardScreen"),
    "hardware": ("lexitui.ui.hardware.screen", "HardwareScreen"),
    "backends": ("lexitui.ui.backends.screen", "BackendsScreen"),
    "discover": ("lexitui.ui.discover.screen", "DiscoverScreen"),
    "downloads": ("lexitui.ui.downloads.screen", "DownloadsScreen"),
    "models": ("lexitui.ui.models.screen", "ModelsScreen"),
    "runtime": ("lexitui.ui.runtime.screen", "RuntimeScreen"),
    "routing": ("lexitui.ui.routing.screen", "RoutingScreen"),
    "fleet": ("lexitui.ui.fleet.screen", "FleetScreen"),
}


def screen_class(mode: str) -> type[AreaScreen]:
    """The screen class of the area ``mode`` (a ``KeyError`` for an area not built yet)."""
    module, name = SCREENS[mode]
    return cast("type[AreaScreen]", getattr(import_module(module), name))


def area_bindings(mode: str) -> list[BindingType]:
    """The keys the area's screen defines itself: not Textual's focus and copy keys that every
    screen inherits (those work everywhere and are no action of the area)."""
    return list(vars(screen_class(mode)).get("BINDINGS", []))


def new_screen(mode: str) -> AreaScreen:
    # Every area screen is built without arguments; only the base class takes a name.
    return cast("Callable[[], AreaScreen]", screen_class(mode))()

"""What every area screen shares: a typed handle on the services and stream subscriptions.

A screen subscribes to service streams while it is shown and drops them when hidden or removed.
Events can still be in flight while the app shuts down (stopping the services unloads the model
and says so), so a handler never runs once the screen's widgets are gone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from reactivex import Observable
from reactivex.abc import DisposableBase
from textual.binding import ActiveBinding
from textual.screen import Screen

from lexitui.ui.shell.gated_keys import GATED_KEYS, unlocking_tier, with_pill
from lexitui.ui.streams import subscribe_on_loop

if TYPE_CHECKING:
    from lexitui.editions.tiers import Action
    from lexitui.services import Services

T = TypeVar("T")

# Shown first in every area's footer: the footer cuts what does not fit at its right end, and a
# user must always see how to get help and how to leave, whatever the width. While a text input
# has the focus, ``?`` and ``q`` are letters: the footer then shows F1 and Ctrl+Q instead.
FOOTER_FIRST = ("help", "quit")


class AreaScreen(Screen[None]):
    # The number keys of the areas are in the help and the palette; a screen whose own keys
    # leave the footer room (the dashboard) lists them there too.
    FOOTER_AREA_KEYS = False

    def __init__(self, name: str) -> None:
        super().__init__(name=name)
        # Keyed by (stream, handler): Textual can deliver ScreenResume twice for one showing, and
        # a second subscription would deliver every event twice.
        self._subscriptions: dict[tuple[int, object], DisposableBase] = {}

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The bindings the footer shows, in its order: Help and Quit, then the area's keys."""
        found = super().active_bindings
        if self.FOOTER_AREA_KEYS:
            found = {
                key: active._replace(binding=replace(active.binding, show=True))
                if (active.binding.id or "").startswith("area.")
                and active.binding.id != f"area.{self.name}"
                else active
                for key, active in found.items()
            }
        found = self._with_tier_pills(found)
        first: dict[str, ActiveBinding] = {}
        for action in FOOTER_FIRST:
            keys = [key for key, active in found.items() if active.binding.action == action]
            for key in [k for k in keys if found[k].binding.show] or keys[:1]:
                active = found[key]
                first[key] = active._replace(binding=replace(active.binding, show=True))
        return first | {key: active for key, active in found.items() if key not in first}

    def gated_action(self, binding_id: str) -> Action | None:
        """The edition action a key starts (``gated_keys.GATED_KEYS``); a screen whose key
        starts different actions in different states says which one it starts now."""
        return GATED_KEYS.get(binding_id)

    def _with_tier_pills(self, found: dict[str, ActiveBinding]) -> dict[str, ActiveBinding]:
        """Each key this user's tier does not reach names the tier that unlocks it."""
        edition = getattr(self.app, "edition", None)
        if edition is None or not edition.managed:
            return found
        pilled: dict[str, ActiveBinding] = {}
        for key, active in found.items():
            tier = unlocking_tier(edition, self.gated_action(active.binding.id or ""))
            description = with_pill(active.binding.description, tier)
            pilled[key] = active._replace(binding=replace(active.binding, description=description))
        return pilled

    @property
    def services(self) -> Services:
        from lexitui.ui.app import LexituiApp

        app = self.app
        assert isinstance(app, LexituiApp)
        return app.services

    async def ready(self) -> Services:
        """The services, once the app has started them (the first screen paints before that)."""
        from lexitui.ui.app import LexituiApp

        app = self.app
        assert isinstance(app, LexituiApp)
        await app.services_ready.wait()
        return app.services

    def watch_stream(self, stream: Observable[T], handler: Callable[[T], None]) -> None:
        """Call ``handler`` on the app's loop for each event, until the screen is hidden."""

        key = (id(stream), handler)
        if key in self._subscriptions:
            return

        def guarded(item: T) -> None:
            if self.is_mounted and self.is_attached:
                handler(item)

        self._subscriptions[key] = subscribe_on_loop(stream, guarded)

    def drop_streams(self) -> None:
        for subscription in self._subscriptions.values():
            subscription.dispose()
        self._subscriptions.clear()

    def on_screen_suspend(self) -> None:
        self.drop_streams()

    def on_unmount(self) -> None:
        self.drop_streams()

"""Command palette entries: jump to any area, run any area's action, chat with any model, read
why the header's edition pill says what it says.

The actions are read from each area screen's ``BINDINGS`` (their descriptions are the command
names), so a key added to a screen is a palette command too, with nothing else to update. The
current area's actions are named plainly ("Load model"); another area's carry its title
("Runtime: Benchmark") and switch to that area before they run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from lexitui.areas import AREAS, Area
from lexitui.ui.shell.area_header import edition_detail, edition_label
from lexitui.ui.shell.registry import SCREENS, area_bindings
from lexitui.ui.text import markup_safe

# Keys that only move focus or close something: not commands a user would look for by name.
NOT_COMMANDS = frozenset({"escape"})


@dataclass(frozen=True)
class AreaAction:
    area: Area
    action: str
    description: str
    keys: str

    def name(self, here: str | None) -> str:
        return (
            self.description if self.area.mode == here else f"{self.area.title}: {self.description}"
        )


def area_actions(keymap: dict[str, str]) -> Iterator[AreaAction]:
    """Every described binding of every built area, with its keys as the user's keymap has them."""
    for item in AREAS:
        if item.mode not in SCREENS:
            continue
        for binding in area_bindings(item.mode):
            if not isinstance(binding, Binding) or not binding.description:
                continue
            keys = keymap.get(binding.id or "", binding.key)
            if keys in NOT_COMMANDS:
                continue
            yield AreaAction(item, binding.action, binding.description, keys)


class LexituiCommands(Provider):
    async def search(self, query: str) -> Hits:
        from lexitui.ui.app import LexituiApp

        app = self.app
        assert isinstance(app, LexituiApp)
        matcher = self.matcher(query)
        for item in AREAS:
            text = f"Go to {item.title}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(text),
                    partial(app.switch_mode, item.mode),
                    help=item.status,
                )
        here = self.screen.name
        for action in area_actions(app.user_keymap):
            text = action.name(here)
            score = matcher.match(text)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(text),
                    partial(self._run, action),
                    text=text,
                    help=f"key {action.keys}",
                )
        if app.edition is not None:  # the pill's reason, for a keyboard without a mouse
            text = f"License: {edition_label(app.edition)}"
            score = matcher.match(text)
            if score > 0:
                detail = edition_detail(app.edition)
                yield Hit(
                    score,
                    matcher.highlight(text),
                    partial(app.notify, markup_safe(detail, 600), timeout=12),
                    text=text,
                    help=markup_safe(detail, 600),
                )
        for model in await app.services.registry.list():
            text = f"Chat with {model.name}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(app.open_chat, model.id))

    async def discover(self) -> Hits:
        """With nothing typed: the actions of the area the palette was opened in."""
        from lexitui.ui.app import LexituiApp

        app = self.app
        assert isinstance(app, LexituiApp)
        here = self.screen.name
        for action in area_actions(app.user_keymap):
            if action.area.mode == here:
                text = action.name(here)
                yield DiscoveryHit(
                    text, partial(self._run, action), text=text, help=f"key {action.keys}"
                )

    async def _run(self, action: AreaAction) -> None:
        app = self.app
        if app.screen.name != action.area.mode:
            await app.switch_mode(action.area.mode)
        await app.screen.run_action(action.action)

"""Command palette entries of the Runtime area: copy a message, export the chat."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import Hit, Hits, Provider


class RuntimeCommands(Provider):
    def _entries(self) -> list[tuple[str, Callable[[], object], str]]:
        from lexitui.ui.runtime.tools import RuntimeTools

        screen = self.screen
        assert isinstance(screen, RuntimeTools)
        return [
            (
                "Export the chat as Markdown",
                partial(screen.action_export, "markdown"),
                "a .md file in the exports folder, or where you choose (x)",
            ),
            (
                "Export the chat as JSON",
                partial(screen.action_export, "json"),
                "a .json file in the exports folder, or where you choose",
            ),
            (
                "Copy the selected message",
                screen.action_copy_message,
                "to the clipboard; the last message when none is selected (c)",
            ),
        ]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, run, help_text in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), run, help=help_text)

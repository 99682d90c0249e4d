"""Command palette entries: jump to any area, chat with any installed model."""

from __future__ import annotations

from functools import partial

from textual.command import Hit, Hits, Provider

from lexitui.areas import AREAS


class LexituiCommands(Provider):
    async def search(self, query: str) -> Hits:
        from lexitui.app import LexituiApp

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
        for model in await app.services.registry.list():
            text = f"Chat with {model.name}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(app.open_chat, model.id))

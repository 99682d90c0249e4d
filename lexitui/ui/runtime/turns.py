"""The chat's messages as widgets: who said each one, and which one is selected.

A ``ChatTurn`` is one message under its speaker's name: ``You``, or the model that answered (a
reopened chat names the model it was held with). A truncation marks the turns it dropped from the
model's context: they stay readable, dimmed and labelled, but are no longer sent. ``ChatLog``
is the scrolling transcript; with it focused, up and down select a turn (for copying), and
nothing selected means the last one.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Markdown, Static

from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.ui.runtime.format import model_text, shown
from lexitui.ui.text import escape_markup

DROPPED = "not in the context"


class ChatTurn(Vertical):
    DEFAULT_CSS = """
    ChatTurn { height: auto; }
    ChatTurn .assistant-label { padding: 0 1; margin: 1 0 0 0; color: $success; }
    ChatTurn.-dropped { opacity: 55%; }
    ChatTurn.-selected { background: $boost; }
    ChatTurn .route-note { padding: 0 1; color: $text-muted; }
    """

    def __init__(self, message: LocalChatMessage, speaker: str) -> None:
        """``speaker`` names the model that answered; the user is always "You"."""
        self.message = message
        self.speaker = "You" if message.role is ChatRole.USER else speaker
        self.dropped = False
        if message.role is ChatRole.USER:
            text = escape_markup(model_text(message.content))
            self.label: Static | None = None
            self.body: Static | Markdown = Static(f"[b]You:[/b] {text}", classes="user-message")
            super().__init__(self.body, classes="turn user-turn")
        else:
            self.label = Static(f"[b]{shown(speaker, 60)}[/b]", classes="assistant-label")
            self.body = Markdown(model_text(message.content), classes="assistant-message")
            super().__init__(self.label, self.body, classes="turn assistant-turn")

    def relabel(self, speaker: str) -> None:
        """The answer came from ``speaker`` (a cloud provider's model, the router having chosen)."""
        self.speaker = speaker
        if self.label is not None:
            self.label.update(f"[b]{shown(speaker, 60)}[/b]")

    async def add_note(self, text: str) -> None:
        """A line under the answer (who gave it and why): it goes when the answer goes."""
        await self.mount(Static(text, classes="route-note"))

    def drop(self) -> None:
        """Out of the model's context after a truncation: kept on screen, dimmed, and said."""
        self.dropped = True
        self.add_class("-dropped")
        if self.label is not None:
            self.label.update(f"[b]{shown(self.speaker, 60)}[/b] [dim]· {DROPPED}[/]")
        else:
            text = escape_markup(model_text(self.message.content))
            self.body.update(f"[b]You:[/b] [dim]({DROPPED})[/] {text}")


class ChatLog(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    ChatLog .dropped-note { padding: 0 1; margin: 1 0 0 0; color: $warning; }
    """
    BINDINGS = [
        Binding("up", "select(-1)", "Previous message", id="chat.previous", show=False),
        Binding("down", "select(1)", "Next message", id="chat.next", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.selected: ChatTurn | None = None

    @property
    def turns(self) -> list[ChatTurn]:
        return list(self.query(ChatTurn))

    def action_select(self, step: int) -> None:
        turns = self.turns
        if not turns:
            return
        if self.selected in turns:
            index = max(0, min(len(turns) - 1, turns.index(self.selected) + step))
        else:
            index = len(turns) - 1
        self.select(turns[index])

    def select(self, turn: ChatTurn | None) -> None:
        if self.selected is not None:
            self.selected.remove_class("-selected")
        self.selected = turn
        if turn is not None:
            turn.add_class("-selected")
            self.scroll_to_widget(turn, animate=False)

    def selected_or_last(self) -> ChatTurn | None:
        turns = self.turns
        if self.selected in turns:
            return self.selected
        return turns[-1] if turns else None

"""Asks for one line (a path to export a model to, a model to pull): Enter accepts, Esc cancels."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class PathDialog(ModalScreen[str | None]):
    DEFAULT_CSS = """
    PathDialog {
        align: center middle;
    }
    #path-box {
        width: 70;
        max-width: 95%;
        height: auto;
        border: $frame $primary;
        background: $surface;
        padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="path_dialog.cancel")]

    def __init__(self, title: str, hint: str, value: str) -> None:
        super().__init__()
        self._title = title
        self._hint = hint
        self._value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="path-box"):
            yield Static(f"[b]{self._title}[/b]")
            yield Static(self._hint)
            yield Input(value=self._value, id="path-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)

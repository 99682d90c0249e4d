"""Where to export the chat: a path field, filled with a name in the exports folder.

The file's suffix picks the format (``.json`` is JSON, anything else Markdown); a folder gets
the suggested name inside it. Enter writes, Esc cancels.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from lexitui.ui.runtime.dialogs import DIALOG_CSS


class ExportDialog(ModalScreen[Path | None]):
    DEFAULT_CSS = DIALOG_CSS.format(name="ExportDialog")
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="export.cancel")]

    def __init__(self, suggested: Path) -> None:
        super().__init__()
        self.suggested = suggested

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("[b]Export the chat[/b]  Enter writes · Esc cancels")
            yield Static("[dim]A .json name writes JSON, any other Markdown.[/]")
            yield Input(str(self.suggested), id="export-path")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if not value:
            self.notify("Give a file or folder to write the chat to.", severity="warning")
            return
        self.dismiss(Path(value))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

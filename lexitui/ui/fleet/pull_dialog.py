"""Which model to pull onto a host: one line, REPO:QUANT, as ``lexitui pull`` takes it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from lexitui.ui.text import markup_safe


class PullDialog(ModalScreen[str | None]):
    """Dismissed with the spec typed, or None on Esc (or an empty line)."""

    DEFAULT_CSS = """
    PullDialog { align: center middle; }
    #pull-box {
        width: 70%; height: auto;
        border: $frame $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="fleet.pull.cancel")]

    def __init__(self, host: str) -> None:
        super().__init__()
        self.host = host

    def compose(self) -> ComposeResult:
        with Vertical(id="pull-box"):
            yield Static(
                f"[b]Pull a model onto {markup_safe(self.host)}[/b]  (Enter sends, Esc cancels)"
            )
            yield Input(placeholder="REPO:QUANT, e.g. Qwen/Qwen3-8B-GGUF:Q4_K_M", id="pull-spec")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)

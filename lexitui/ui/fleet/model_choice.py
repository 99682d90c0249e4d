"""Which model to load on a host, or to unload from it: a list of the host's models."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from lexitui.ui.text import markup_safe


class ModelChoiceScreen(ModalScreen[str | None]):
    """Dismissed with the chosen model id, or None on Esc."""

    DEFAULT_CSS = """
    ModelChoiceScreen { align: center middle; }
    #model-choice-box {
        width: 70%; height: auto; max-height: 80%;
        border: $frame $primary; background: $surface; padding: 0 1;
    }
    #model-choice { height: auto; max-height: 20; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="fleet.choice.cancel")]

    def __init__(self, title: str, models: Sequence[str]) -> None:
        super().__init__()
        self.heading = title
        self.models = list(models)

    def compose(self) -> ComposeResult:
        with Vertical(id="model-choice-box"):
            yield Static(f"[b]{markup_safe(self.heading)}[/b]  (Enter chooses, Esc cancels)")
            yield OptionList(
                *(Option(markup_safe(m), id=str(i)) for i, m in enumerate(self.models)),
                id="model-choice",
            )

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.models[int(event.option.id or 0)])

    def action_cancel(self) -> None:
        self.dismiss(None)

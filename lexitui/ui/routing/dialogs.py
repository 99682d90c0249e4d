"""The Routing area's small select dialog: pick a strategy (for the default or for one task)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist

from lexitui.domain.routing import RoutingStrategy
from lexitui.ui.routing.format import label

FOLLOW_DEFAULT = "default"  # a task that follows the default strategy

HELP = {
    RoutingStrategy.PREFER_LOCAL: "local if available, else cloud",
    RoutingStrategy.PREFER_CLOUD: "cloud if available, else local",
    RoutingStrategy.LOCAL_ONLY: "never the cloud",
    RoutingStrategy.CLOUD_ONLY: "never the local model",
    RoutingStrategy.COST_OPTIMIZED: "lowest estimated cost",
    RoutingStrategy.PERFORMANCE_OPTIMIZED: "lowest expected latency",
    RoutingStrategy.QUALITY_OPTIMIZED: "highest quality rating",
    RoutingStrategy.ROUND_ROBIN: "take turns",
    RoutingStrategy.LOAD_BALANCED: "fewest requests in flight",
}


class StrategyPicker(ModalScreen[str | None]):
    """Enter picks, Esc cancels; answers a strategy value, ``FOLLOW_DEFAULT`` or None."""

    DEFAULT_CSS = """
    StrategyPicker { align: center middle; }
    StrategyPicker > Vertical {
        width: 64; max-width: 95%; height: auto; max-height: 90%;
        border: $frame $primary; background: $surface; padding: 0 1;
    }
    StrategyPicker OptionList { height: auto; max-height: 14; }
    """
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="routing_pick.cancel")]

    def __init__(self, title: str, current: str, *, allow_default: bool = False) -> None:
        super().__init__()
        self._title = title
        self._current = current
        self._allow_default = allow_default

    def compose(self) -> ComposeResult:
        options = [Option(f"{label(s.value):<22} {HELP[s]}", id=s.value) for s in RoutingStrategy]
        if self._allow_default:
            options.insert(0, Option("follow the default strategy", id=FOLLOW_DEFAULT))
        with Vertical():
            yield Static(f"[b]{self._title}[/b]  Enter picks · Esc cancels")
            yield OptionList(*options, id="strategy-options")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        try:
            options.highlighted = options.get_option_index(self._current)
        except OptionDoesNotExist:  # an unknown current value: start at the top
            options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

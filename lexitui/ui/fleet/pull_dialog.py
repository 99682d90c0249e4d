"""Which model to pull onto a host: one line, REPO:QUANT, as ``lexitui pull`` takes it."""

from __future__ import annotations

from textual.binding import Binding

from lexitui.ui.text import markup_safe
from lexitui.ui.widgets.path_dialog import PathDialog


class PullDialog(PathDialog):
    """The one-line dialog, asking for a model spec: dismissed with it, or None on Esc (or an
    empty line)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="fleet.pull.cancel")]

    def __init__(self, host: str) -> None:
        super().__init__(
            f"Pull a model onto {markup_safe(host)}",
            "REPO:QUANT, e.g. Qwen/Qwen3-8B-GGUF:Q4_K_M  (Enter sends, Esc cancels)",
            "",
        )

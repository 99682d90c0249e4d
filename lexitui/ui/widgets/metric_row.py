"""One live reading on one line: label, usage bar, value, and its recent history.

The bar is the value now; the history line to its right is how it got there (newest at the
right edge), so one row answers both "how busy" and "since when".
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widget import Widget

from lexitui.ui.widgets.usage_bar import history_line, usage_bar

LABEL_WIDTH = 6
VALUE_WIDTH = 14
MAX_BAR = 30


class MetricRow(Widget):
    DEFAULT_CSS = """
    MetricRow {
        height: 1;
    }
    """

    def __init__(
        self,
        label: str,
        *,
        ceiling: float = 100.0,
        warn: bool = True,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.label = label
        self.ceiling = ceiling
        self.warn = warn
        self.fraction: float | None = None
        self.value = "…"
        self.history: tuple[float, ...] = ()

    def show(
        self,
        value: str,
        fraction: float | None,
        history: Sequence[float] = (),
        *,
        ceiling: float | None = None,
    ) -> None:
        """``fraction`` None draws no bar (a reading with no known maximum, like power)."""
        self.value = value
        self.fraction = fraction
        self.history = tuple(history)
        if ceiling is not None:
            self.ceiling = ceiling
        self.refresh()

    def render(self) -> Text:
        width = self.size.width
        bar_width = max(6, min(MAX_BAR, (width - LABEL_WIDTH - VALUE_WIDTH - 3) // 2))
        line = Text(f"{self.label:<{LABEL_WIDTH}} ", style="bold")
        if self.fraction is None:
            line.append(" " * bar_width)
        else:
            line.append_text(usage_bar(self.fraction, bar_width, warn=self.warn))
        line.append(f" {self.value:<{VALUE_WIDTH}} ")
        rest = width - len(line)
        line.append_text(history_line(self.history, rest, self.ceiling, warn=self.warn))
        return line

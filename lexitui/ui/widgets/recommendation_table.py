"""The fit table: quantizations down, model sizes across, each cell rated for this machine.

Every rating has a text mark as well as a colour (``++`` optimal ... ``-`` does not fit), so the
table reads in 16 colours and with ``NO_COLOR``. Cells give the estimated memory at the table's
context length and the estimated decode speed; the recommended cell is drawn reversed.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from lexitui.domain.enums import CompatibilityLevel, ModelSizeCategory
from lexitui.domain.hardware import ModelSizeOption, ModelSizeRecommendation
from lexitui.domain.units import GIB
from lexitui.hardware.memory_estimate import REPRESENTATIVE
from lexitui.hardware.recommend import TABLE_CONTEXT, TABLE_QUANTS

MARK = {
    CompatibilityLevel.OPTIMAL: "++",
    CompatibilityLevel.COMFORTABLE: "+",
    CompatibilityLevel.CONSTRAINED: "~",
    CompatibilityLevel.MARGINAL: "?",
    CompatibilityLevel.INCOMPATIBLE: "-",
}
STYLE = {
    CompatibilityLevel.OPTIMAL: "bold green",
    CompatibilityLevel.COMFORTABLE: "green",
    CompatibilityLevel.CONSTRAINED: "yellow",
    CompatibilityLevel.MARGINAL: "red",
    CompatibilityLevel.INCOMPATIBLE: "dim",
}
WORDS = {
    CompatibilityLevel.OPTIMAL: "optimal",
    CompatibilityLevel.COMFORTABLE: "comfortable",
    CompatibilityLevel.CONSTRAINED: "constrained",
    CompatibilityLevel.MARGINAL: "marginal",
    CompatibilityLevel.INCOMPATIBLE: "does not fit",
}


def short_gib(n: int) -> str:
    gib = n / GIB
    return f"{gib:.1f}G" if gib < 10 else f"{gib:.0f}G"


def legend() -> Text:
    text = Text()
    for level in CompatibilityLevel:
        text.append(f"{MARK[level]} {WORDS[level]}", style=STYLE[level])
        text.append("  ")
    text.rstrip()
    text.append(
        f"\nCells: memory needed with {TABLE_CONTEXT} tokens of context; t/s = estimated "
        "tokens/s (from memory bandwidth, not measured).",
        style="dim",
    )
    return text


def cell(option: ModelSizeOption | None, recommended: bool) -> Text:
    if option is None:
        return Text("")
    level = option.compatibility
    text = Text(f"{MARK[level]} {short_gib(option.estimated_memory_bytes)}", style=STYLE[level])
    tps = option.estimated_tokens_per_second
    if tps is not None and level is not CompatibilityLevel.INCOMPATIBLE:
        text.append(f"\n{tps:.0f} t/s" if tps >= 1 else f"\n{tps:.1f} t/s", style=STYLE[level])
    if recommended:
        text.stylize("reverse")
    return text


class RecommendationTable(DataTable[Text]):
    """Read-only: not focusable, so the page around it scrolls with the keyboard."""

    can_focus = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id, show_cursor=False, cursor_type="none", header_height=2, zebra_stripes=False
        )

    def on_mount(self) -> None:
        self.add_column(Text("Quant"), key="quant")
        for size in ModelSizeCategory:
            billions = REPRESENTATIVE[size].parameters / 1e9
            self.add_column(Text(f"{size.value}\n~{billions:.0f}B"), key=size.value)

    def show(self, rec: ModelSizeRecommendation) -> None:
        self.clear()
        for quant in TABLE_QUANTS:
            cells = [
                cell(
                    rec.option(size, quant),
                    size is rec.max_recommended_size and quant is rec.recommended_quantization,
                )
                for size in ModelSizeCategory
            ]
            self.add_row(Text(quant.value, style="bold"), *cells, height=2, key=quant.value)

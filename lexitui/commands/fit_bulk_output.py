"""The table ``lexitui fit`` prints for many models: one row each, failures with their reason.

Model names come from the command line, a file or a registry's search, so they are printed
through ``safe_text`` (no escape sequence reaches the terminal).
"""

from __future__ import annotations

from collections.abc import Sequence

from lexitui.discovery.bulk_fit import FitRow
from lexitui.domain.units import format_bytes
from lexitui.gguf.text import safe_text

HEADER = ("MODEL", "VARIANT", "VERDICT", "RAM", "VRAM", "GPU LAYERS", "TOK/S", "CONTEXT")
MODEL_WIDTH = 100
REASON_WIDTH = 200


def _cells(row: FitRow) -> tuple[str, ...]:
    def number(value: int | None) -> str:
        return "-" if value is None else f"{value:,}"

    speed = "-" if row.tokens_per_second is None else f"{row.tokens_per_second:.1f}"
    return (
        safe_text(row.model, MODEL_WIDTH),
        safe_text(row.variant or "-", 40),
        row.verdict,
        "-" if row.ram_bytes is None else format_bytes(row.ram_bytes),
        "-" if row.vram_bytes is None else format_bytes(row.vram_bytes),
        number(row.gpu_layers),
        speed,
        number(row.context_length),
    )


def render_table(rows: Sequence[FitRow]) -> str:
    """Aligned columns; a row without a fitting variant ends with why, after the columns."""
    table = [HEADER, *(_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    lines = []
    for i, cells in enumerate(table):
        text = "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
        row = rows[i - 1] if i else None
        if row is not None and row.reason and (not row.analysed or row.ram_bytes is None):
            text += f"  ({safe_text(row.reason, REASON_WIDTH)})"
        lines.append(text)
    analysed = sum(r.analysed for r in rows)
    lines.append(f"{analysed} of {len(rows)} analysed")
    return "\n".join(lines)

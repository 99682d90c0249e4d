"""How the Models screen writes a model's figures: sizes, counts, ages and durations.

Every text that comes from a file (names, paths) is made safe (G7) and escaped for Rich markup
here, so the screen never puts raw file text on the terminal.
"""

from __future__ import annotations

from datetime import datetime

from lexitui.domain.storage import StoredModel, VerifyReport
from lexitui.domain.text import safe_text
from lexitui.domain.units import format_bytes
from lexitui.storage.paths import contract_home
from lexitui.ui.text import markup_safe

WIDE = 100  # columns from which the table shows every column and long names


def shown(text: str, limit: int = 200) -> str:
    """File text made safe for the terminal and for Rich markup."""
    return markup_safe(text, limit)


def ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never"
    seconds = max(0.0, (now - when).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min ago"
    if seconds < 86400:
        return f"{seconds // 3600:.0f} h ago"
    return f"{seconds // 86400:.0f} d ago"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def count(n: int | None) -> str:
    if n is None:
        return "?"
    for limit, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= limit:
            return f"{n / limit:.1f}{unit}".replace(".0", "")
    return str(n)


def columns(width: int) -> tuple[str, ...]:
    base = ("Name", "Quant", "Size", "Source", "Last used")
    return (*base, "Uses") if width >= WIDE else base  # narrow: the detail line has the count


def row_cells(model: StoredModel, now: datetime, width: int) -> tuple[str, ...]:
    cells = (
        markup_safe(safe_text(model.model.name)),  # the table cuts it to the width it has
        shown(model.facts.quantization or "?"),
        format_bytes(model.size_bytes),
        shown(model.model.source),
        ago(model.last_used_at, now),
    )
    return (*cells, str(model.use_count)) if width >= WIDE else cells


def detail_lines(
    model: StoredModel, now: datetime, verified: VerifyReport | None, width: int
) -> list[str]:
    """Three lines: what it is, how it is used (and what delete does), where it lives."""
    facts = model.facts
    what = [f"[b]{shown(model.id)}[/b]"]
    if facts.architecture:
        what.append(shown(facts.architecture))
    if facts.parameter_count:
        what.append(f"{count(facts.parameter_count)} params")
    if facts.context_length:
        what.append(f"context {facts.context_length}")
    use = [
        f"installed {ago(model.model.installed_at, now)}",
        f"loaded {model.use_count} times, {duration(model.total_usage_seconds)} in all",
    ]
    if model.shared:
        use.append(f"[yellow]{shown(model.model.source)}'s file: delete only forgets it[/yellow]")
    lines = [" · ".join(what), " · ".join(use), shown(tail(contract_home(model.model.path), width))]
    if verified is not None:
        lines.append(verify_text(verified))
    return lines


def tail(path: str, width: int) -> str:
    """The end of a long path (the file name is what tells models apart)."""
    return path if len(path) <= width else "…" + path[-(width - 1) :]


def verify_text(report: VerifyReport) -> str:
    if not report.ok:
        return f"[red]verify failed:[/red] {shown(report.error or 'unknown error')}"
    if report.computed_sha256 is None:
        return "[green]verified:[/green] the header is sound"
    if report.expected_sha256:
        return "[green]verified:[/green] header sound, sha256 matches"
    return "[green]verified:[/green] header sound (no published sha256 to compare)"

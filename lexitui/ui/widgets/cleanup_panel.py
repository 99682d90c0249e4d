"""Cleanup suggestions as the Models screen lists them: model, what deleting it frees, why."""

from __future__ import annotations

from collections.abc import Sequence

from lexitui.domain.storage import CleanupSuggestion
from lexitui.domain.units import format_bytes
from lexitui.ui.widgets.model_cells import shown

REASON_TITLES = {
    "incompatible_with_hardware": "won't run here",
    "duplicate_quantization": "duplicate",
    "never_used": "never used",
    "not_used_recently": "not used lately",
    "better_version_available": "better version",
    "large_size": "large",
}


def suggestions_text(suggestions: Sequence[CleanupSuggestion] | None, limit: int) -> str:
    if suggestions is None:
        return "[b]Cleanup suggestions[/b]  [dim]checking…[/dim]"
    if not suggestions:
        return "[b]Cleanup suggestions[/b]  [dim]none: nothing lexitui owns needs to go[/dim]"
    total = sum(s.freeable_bytes for s in suggestions)
    lines = [f"[b]Cleanup suggestions[/b]  [dim]deleting all frees {format_bytes(total)}[/dim]"]
    for s in suggestions[:limit]:
        title = REASON_TITLES.get(s.reason.value, s.reason.value)
        lines.append(
            f"• {shown(s.model.id, 40)}  [b]{format_bytes(s.freeable_bytes)}[/b]  "
            f"[yellow]{title}[/yellow]: {shown(s.explanation, 160)}"
        )
    if len(suggestions) > limit:
        lines.append(
            f"[dim]… and {len(suggestions) - limit} more (lexitui cleanup --dry-run)[/dim]"
        )
    return "\n".join(lines)

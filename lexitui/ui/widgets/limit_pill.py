"""A small pill beside a counted action: the edition's limit and how much of it is used.

Hidden where no limit applies (an unmanaged machine, a tier without that limit), so it never
takes room or attention from a user it does not concern. The counting is the services' own
(``lexitui.services.edition_usage``); this only says it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Static

from lexitui.downloads.quota import size_text
from lexitui.editions.refusals import limit_phrase
from lexitui.ui.text import plain

if TYPE_CHECKING:
    from lexitui.services.edition_usage import LimitUsage


def limit_text(usage: LimitUsage) -> str:
    """ "Hub searches 3/10 today", "WriterPro: 1 loaded model · in use: smollm2"."""
    if usage.limit == "searches_per_day":
        return f"Hub searches {usage.used}/{usage.allowed} today"
    if usage.limit == "downloaded_models":
        return f"Downloaded models {usage.used}/{usage.allowed}"
    if usage.limit == "storage_bytes":
        return f"Storage {size_text(usage.used)}/{size_text(usage.allowed)}"
    phrase = f"{usage.tier.title}: {limit_phrase(usage.limit, usage.allowed)}"
    if usage.counted:
        return f"{phrase} · in use: {', '.join(usage.counted)}"
    return f"{phrase} · {usage.used} used"


class LimitPill(Static):
    DEFAULT_CSS = """
    LimitPill {
        width: auto;
        height: 1;
        padding: 0 1;
        background: $primary-muted;
        color: $text-primary;
    }
    LimitPill.-spent {
        background: $warning-muted;
        color: $text-warning;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.display = False

    def show(self, usage: LimitUsage | None) -> None:
        self.display = usage is not None
        if usage is not None:
            self.update(plain(limit_text(usage), 120))
            self.set_class(usage.used >= usage.allowed, "-spent")

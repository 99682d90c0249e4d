"""The editions' rules for compatibility analysis: one model's fit (``lexitui fit`` of a file
or a repo, Discover's badges and details) is Teams'; many at once (several targets, a list or
a search's results) is bulk analysis, Enterprise's.

Discover degrades rather than refuses: a badge or a details pane without the right says which
tier gives it, so searching and downloading (WriterPro's) still work around it.
"""

from __future__ import annotations

from lexitui.editions.entitlements import Entitlements
from lexitui.editions.tiers import Action


def fit_action(targets: int, *, listed: bool = False) -> Action:
    """``listed``: the targets came from a list or a search, however many it gave."""
    return Action.BULK_ANALYSIS if listed or targets > 1 else Action.COMPATIBILITY


def check_fit(entitlements: Entitlements, targets: int, *, listed: bool = False) -> None:
    """Raise ``NotEntitled`` (naming the tier) unless this analysis is allowed."""
    entitlements.require(fit_action(targets, listed=listed))


def no_verdict_reason(entitlements: Entitlements) -> str | None:
    """Why Discover shows no fit verdict, or None when this user may have them."""
    if entitlements.allows(Action.COMPATIBILITY):
        return None
    needed = Entitlements.unlocking_tier(Action.COMPATIBILITY).title
    return f"{Action.COMPATIBILITY.value} needs {needed} or above"

"""What a refused action says: which tier unlocks it, or which limit is spent and by how much.

Both are user errors (the CLI prints one line, the gateway answers 403 in the API's own error
shape, the TUI shows the line), raised by the services that do the work, never by a screen.
"""

from __future__ import annotations

from lexitui.editions.tiers import Action, Tier


class EditionRefusal(Exception):
    """An action this user's edition does not allow; ``code`` names the kind for APIs."""

    code = "not_entitled"

    def __init__(self, message: str, *, needed: Tier | None) -> None:
        super().__init__(message)
        self.message = message
        self.needed = needed  # the lowest tier that would allow it; None when none would


class NotEntitled(EditionRefusal):
    def __init__(self, action: Action, needed: Tier, have: str, reason: str) -> None:
        super().__init__(
            f"{action.value} needs {needed.title} or above (this user: {have}; {reason})",
            needed=needed,
        )
        self.action = action


class LimitReached(EditionRefusal):
    code = "limit_reached"

    def __init__(self, tier: Tier, limit: str, allowed: int, usage: str) -> None:
        lifted_by = Tier.TEAMS if tier.rank < Tier.TEAMS.rank else None
        after = f"; {lifted_by.title} has no limit" if lifted_by is not None else ""
        super().__init__(
            f"{tier.title}: {limit_phrase(limit, allowed)} ({usage}){after}", needed=lifted_by
        )
        self.limit = limit
        self.allowed = allowed


_NOUNS = {
    "backends": ("backend", "backends"),
    "loaded_models": ("loaded model", "loaded models"),
    "searches_per_day": ("Hugging Face search a day", "Hugging Face searches a day"),
    "downloaded_models": ("downloaded model", "downloaded models"),
}


def limit_phrase(limit: str, allowed: int) -> str:
    """ "1 loaded model", "10 Hugging Face searches a day", "50 GB of downloaded models"."""
    if limit == "storage_bytes":
        return f"{decimal_size(allowed)} of downloaded models"
    one, many = _NOUNS[limit]
    return f"{allowed} {one if allowed == 1 else many}"


def decimal_size(count: int) -> str:
    """Bytes in the decimal units the limit is written in: ``50 GB``, ``3.1 kB``, ``512 B``."""
    for unit, name in ((1000**3, "GB"), (1000**2, "MB"), (1000, "kB")):
        if count >= unit:
            return f"{count / unit:.4g} {name}"
    return f"{count} B"

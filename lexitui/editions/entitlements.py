"""``Entitlements``: the one immutable record of what this user may do, and the checks on it.

Services call ``require`` before a gated action and ``require_room`` before using up a counted
limit; both raise an ``EditionRefusal`` that says which tier unlocks it or what is used. On an
unmanaged machine (no license authority) every check passes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lexitui.editions.refusals import LimitReached, NotEntitled
from lexitui.editions.tiers import REQUIRED_TIER, UNLIMITED, Action, Limits, Tier

UNMANAGED = "unmanaged"


@dataclass(frozen=True)
class Entitlements:
    tier: Tier
    licensee: str | None
    reason: str
    managed: bool
    limits: Limits
    expires: dt.date | None = None

    @property
    def shown_tier(self) -> str:
        """What the UI and ``license status`` show: the tier's name, or "unmanaged"."""
        return self.tier.title if self.managed else UNMANAGED

    def allows(self, action: Action) -> bool:
        return not self.managed or self.tier.rank >= REQUIRED_TIER[action].rank

    @staticmethod
    def unlocking_tier(action: Action) -> Tier:
        return REQUIRED_TIER[action]

    def require(self, action: Action) -> None:
        """Raise ``NotEntitled`` (naming the tier that unlocks it) unless ``action`` is allowed."""
        if not self.allows(action):
            raise NotEntitled(action, REQUIRED_TIER[action], self.shown_tier, self.reason)

    def limit(self, name: str) -> int | None:
        """A counted limit (``Limits.names()``); None when unlimited or unmanaged."""
        return getattr(self.limits, name) if self.managed else None

    def require_room(self, name: str, used: int, *, adding: int = 1, usage: str = "") -> None:
        """Raise ``LimitReached`` when ``used + adding`` would pass the limit ``name``;
        ``usage`` says what is used, in words ("1 loaded: smollm2")."""
        allowed = self.limit(name)
        if allowed is not None and used + adding > allowed:
            raise LimitReached(self.tier, name, allowed, usage or f"{used} used")

    def as_json(self) -> dict[str, object]:
        return {
            "tier": self.shown_tier,
            "licensee": self.licensee,
            "managed": self.managed,
            "reason": self.reason,
            "expires": None if self.expires is None else self.expires.isoformat(),
            "limits": self.limits.as_dict(),
        }


# What services assume when nobody passed them entitlements (a tool or test building one part
# alone): the unmanaged default, where everything is open.
OPEN = Entitlements(
    Tier.ENTERPRISE, None, "no license authority is installed", managed=False, limits=UNLIMITED
)

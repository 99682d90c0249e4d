"""How much of a counted edition limit this user has used, for the screens that show it.

The checks themselves stay with the services that do the work (``SearchQuota``,
``runtime.edition_checks``); this module reads the same counters, so what a screen shows is what
the next check will meet. Each answer is None where no limit applies (unmanaged, or a tier
without that limit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lexitui.editions.tiers import Tier
from lexitui.engine.state import live_loaded_models, run_dir

if TYPE_CHECKING:
    from lexitui.services.container import Services


@dataclass(frozen=True)
class LimitUsage:
    tier: Tier
    limit: str  # a ``Limits`` name
    allowed: int
    used: int
    counted: tuple[str, ...] = ()  # what is counted, where it has names (loaded model ids)


def _limit(services: Services, limit: str) -> tuple[Tier, int] | None:
    edition = services.entitlements
    allowed = edition.limit(limit)
    return None if allowed is None else (edition.tier, allowed)


async def hub_searches(services: Services) -> LimitUsage | None:
    """The Hugging Face searches of this UTC day against the daily limit."""
    limit = _limit(services, "searches_per_day")
    quota = services.discovery.quota
    if limit is None or quota is None:
        return None
    tier, allowed = limit
    return LimitUsage(tier, "searches_per_day", allowed, await quota.used_today())


def loaded_models(services: Services) -> LimitUsage | None:
    """The models loaded now, by this process and the user's other lexitui processes."""
    limit = _limit(services, "loaded_models")
    if limit is None:
        return None
    tier, allowed = limit
    here = [m.model.id for m in services.runtime.loaded_models()]
    others = [s.model_id for s in live_loaded_models(run_dir(services.paths))]
    counted = (*here, *others)
    return LimitUsage(tier, "loaded_models", allowed, len(counted), counted)

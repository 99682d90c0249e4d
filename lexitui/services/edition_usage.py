"""How much of a counted edition limit this user has used, for the screens that show it.

The checks themselves stay with the services that do the work (``SearchQuota``,
``runtime.edition_checks``); this module reads the same counters, so what a screen shows is what
the next check will meet. Each answer is None where no limit applies (unmanaged, a tier
without that limit, or one without the action at all).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lexitui.editions.tiers import Action, Tier
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


def _limit(services: Services, limit: str, action: Action) -> tuple[Tier, int] | None:
    # A tier without the action at all (Core) has no use to show: the key names the tier
    # that unlocks it instead.
    edition = services.entitlements
    allowed = edition.limit(limit)
    if allowed is None or not edition.allows(action):
        return None
    return edition.tier, allowed


async def hub_searches(services: Services) -> LimitUsage | None:
    """The Hugging Face searches of this UTC day against the daily limit."""
    limit = _limit(services, "searches_per_day", Action.SEARCH_HUB)
    quota = services.discovery.quota
    if limit is None or quota is None:
        return None
    tier, allowed = limit
    return LimitUsage(tier, "searches_per_day", allowed, await quota.used_today())


def loaded_models(services: Services) -> LimitUsage | None:
    """The models loaded now, by this process and the user's other lexitui processes."""
    limit = _limit(services, "loaded_models", Action.LOAD_MODEL)
    if limit is None:
        return None
    tier, allowed = limit
    here = [m.model.id for m in services.runtime.loaded_models()]
    others = [s.model_id for s in live_loaded_models(run_dir(services.paths))]
    counted = (*here, *others)
    return LimitUsage(tier, "loaded_models", allowed, len(counted), counted)


async def downloads(services: Services) -> list[LimitUsage]:
    """The downloaded models kept and their storage, against the edition's limits (queued and
    running downloads count, as the check before the next download counts them)."""
    from lexitui.downloads.quota import downloaded_models

    edition = services.entitlements
    if not edition.allows(Action.DOWNLOAD):
        return []
    kept = downloaded_models(
        await services.registry.list(), await services.download_manager.get_downloads()
    )
    used = {"downloaded_models": len(kept.names), "storage_bytes": sum(kept.sizes.values())}
    return [
        LimitUsage(edition.tier, name, allowed, used[name], tuple(kept.names))
        for name in ("downloaded_models", "storage_bytes")
        if (allowed := edition.limit(name)) is not None
    ]

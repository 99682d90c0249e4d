"""What the Routing and Dashboard screens and ``lexitui providers`` show about the providers
and budgets: plain rows, read without I/O (keys say where they come from, never what they are).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from lexitui.routing.cloud_factory import key_status
from lexitui.routing.keys import redact_url

if TYPE_CHECKING:
    from lexitui.routing.service import RoutingService


@dataclass(frozen=True)
class ProviderRow:
    id: str
    name: str
    kind: str  # "local", "openai", "openai_compatible", "azure", "anthropic"
    is_local: bool
    model: str | None
    available: bool
    reason: str  # why not available, or what it would answer with
    key_source: str  # "env NAME", "stored", "none"; "-" for the local runtime
    cooling: str | None  # why the cooldown skips it now, if it does
    quality: float
    base_url: str = ""  # with any secret in it masked (``redact_url``): rows are shown


@dataclass(frozen=True)
class BudgetStatus:
    daily_spent: Decimal
    daily_limit: Decimal | None
    monthly_spent: Decimal
    monthly_limit: Decimal | None
    blocked: str | None  # why cloud requests are refused now

    def share(self, period: str) -> float | None:
        """Spent/limit in 0..1+ for a gauge; None without a limit."""
        spent, limit = (
            (self.daily_spent, self.daily_limit)
            if period == "daily"
            else (self.monthly_spent, self.monthly_limit)
        )
        return None if not limit else float(spent / limit)


def provider_rows(service: RoutingService) -> list[ProviderRow]:
    cooling = service.cooldowns.snapshot()
    ok, why = service.local.available_now()
    rows = [
        ProviderRow(
            id=service.local.provider_id,
            name=service.local.provider_name,
            kind="local",
            is_local=True,
            model=service.local.default_model,
            available=ok,
            reason=why,
            key_source="-",
            cooling=cooling.get(service.local.provider_id),
            quality=service.settings.local_quality,
        )
    ]
    for settings, provider in zip(service.settings.providers, service.cloud, strict=True):
        ok, why = provider.available_now()
        keys = key_status(settings, service.keys).key_source if service.keys else "none"
        rows.append(
            ProviderRow(
                id=settings.id,
                name=provider.provider_name,
                kind=settings.kind,
                is_local=False,
                model=provider.default_model,
                available=ok,
                reason=why,
                key_source=keys,
                cooling=cooling.get(settings.id),
                quality=settings.quality,
                base_url=redact_url(settings.base_url),
            )
        )
    return rows


def budget_status(service: RoutingService) -> BudgetStatus:
    """Needs ``await service.start()`` first (the spend is read from the store then)."""
    config = service.router.config
    day, month = service.recorder.budgets.spent()
    return BudgetStatus(
        daily_spent=day,
        daily_limit=config.daily_cloud_budget,
        monthly_spent=month,
        monthly_limit=config.monthly_cloud_budget,
        blocked=service.recorder.budgets.blocked(),
    )

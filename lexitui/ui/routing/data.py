"""What the Routing area and the dashboard read from the routing service, in one pass.

``lexitui serve`` runs in another process and writes its requests to the same SQLite store, so
the screens read the store again whenever it says ``routed_requests`` changed (``StoreChanged``)
instead of trusting what this process saw.
The budgets are read from the store as well (the service's running totals only count this
process's spend). Every period is measured back from ``now()``: one place for snapshot tests to
stop the clock, so fixed records stay inside the last day and week.
"""

from __future__ import annotations

import asyncio
import importlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from lexitui.domain.routing import RoutedRequestRecord, RoutingStats, SavingsReport
from lexitui.editions.refusals import EditionRefusal
from lexitui.routing.budgets import day_start, month_start
from lexitui.routing.status import BudgetStatus, ProviderRow, provider_rows

if TYPE_CHECKING:
    from lexitui.routing.service import RoutingService
    from lexitui.services import Services

DAY = timedelta(days=1)
WEEK = timedelta(days=7)


def now() -> datetime:
    """The time the periods end at; snapshot tests replace this to fix it."""
    return datetime.now(UTC)


async def routing_service(services: Services) -> RoutingService:
    """The routing service, started. Its price tables take ~0.3 s to import: that happens in a
    thread, so the screen keeps painting while the service is built the first time."""
    if not services.built("routing"):
        await services.after_detection()  # the machine panel fills first
        await asyncio.to_thread(importlib.import_module, "lexitui.services.routing")
    service = services.routing
    await service.start()
    return service


@dataclass(frozen=True)
class RoutingView:
    at: datetime  # the end of the periods below
    recent: list[RoutedRequestRecord]
    day: RoutingStats
    week: SavingsReport
    budgets: BudgetStatus
    providers: list[ProviderRow]
    # What the user's edition does not show, as its refusal: the log and mix, the savings.
    log_withheld: str | None = None
    savings_withheld: str | None = None


async def read_budgets(service: RoutingService, at: datetime) -> BudgetStatus:
    """Today's and this month's cloud spend (UTC), as every process wrote it, with the limits."""
    rows = service.recorder.rows
    config = service.router.config
    daily = await rows.spent_since(day_start(at))
    monthly = await rows.spent_since(month_start(at))
    blocked = None
    for period, spent, limit in (
        ("daily", daily, config.daily_cloud_budget),
        ("monthly", monthly, config.monthly_cloud_budget),
    ):
        if limit is not None and spent >= limit:
            blocked = f"the {period} cloud budget of ${limit} is spent: cloud requests are refused"
            break
    return BudgetStatus(
        daily_spent=daily,
        daily_limit=config.daily_cloud_budget,
        monthly_spent=monthly,
        monthly_limit=config.monthly_cloud_budget,
        blocked=blocked,
    )


async def read_view(service: RoutingService, limit: int = 50) -> RoutingView:
    """Recent requests (newest first), the last day's mix, the last week's savings, budgets.

    Read through the service's reports, so the edition's analytics rows hold here as they do
    for ``lexitui usage``: what is not allowed is left empty, and its refusal is kept in
    ``log_withheld`` or ``savings_withheld``."""
    await service.start()
    reports = service.reports
    at = now()
    log_withheld = savings_withheld = None
    recent: list[RoutedRequestRecord] = []
    day = RoutingStats(DAY)
    week = SavingsReport(WEEK, estimated_cloud_cost_avoided=None, net_savings=None)
    try:
        recent = await reports.recent(limit)
        day = await reports.stats(DAY, now=at)
    except EditionRefusal as refused:
        log_withheld = refused.message
    try:
        week = await reports.savings(WEEK, now=at)
    except EditionRefusal as refused:
        savings_withheld = refused.message
    return RoutingView(
        at=at,
        recent=recent,
        day=day,
        week=week,
        budgets=await read_budgets(service, at),
        providers=provider_rows(service),
        log_withheld=log_withheld,
        savings_withheld=savings_withheld,
    )

"""The daily and monthly cloud budgets (``[routing] daily_budget_usd`` / ``monthly_budget_usd``).

``check`` runs on the router's hot path for every cloud candidate, so it reads running totals
kept in memory (loaded from the store once, then advanced by each spend) instead of summing rows.
Days and months are UTC, so every instance and the store agree where a period starts.

The request whose cost crosses a limit is allowed (its price is only known once it answered);
it publishes ``CostThresholdReached`` once for that period and limit, and the next cloud request
is refused with ``BudgetExceeded``. Requests already in flight when the limit is crossed still
complete, so spend can pass a limit by what those cost. Requests with no known price add
nothing: they are counted apart in the savings report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from lexitui.domain.routing import RoutingConfig
from lexitui.events import CostThresholdReached, EventBus
from lexitui.routing.errors import BudgetExceeded
from lexitui.store.routed_requests import RoutedRequestRows

DAILY = "daily"
MONTHLY = "monthly"


def day_start(now: datetime) -> datetime:
    utc = now.astimezone(UTC)
    return datetime(utc.year, utc.month, utc.day, tzinfo=UTC)


def month_start(now: datetime) -> datetime:
    utc = now.astimezone(UTC)
    return datetime(utc.year, utc.month, 1, tzinfo=UTC)


REFRESH_S = 5.0  # how stale the spend read from the store may get


class BudgetGuard:
    def __init__(
        self,
        rows: RoutedRequestRows,
        bus: EventBus,
        config_getter: Callable[[], RoutingConfig],
    ) -> None:
        self._rows = rows
        self._bus = bus
        self._config = config_getter
        self._day: datetime | None = None  # the period the running totals belong to
        self._month: datetime | None = None
        self._day_spent = Decimal(0)
        self._month_spent = Decimal(0)
        # (period, its start, the limit) already announced: a raised limit crossed again is news.
        self._announced: set[tuple[str, datetime, Decimal]] = set()
        self._read_at = time.monotonic()

    async def load(self, now: datetime | None = None) -> None:
        """Read this day's and month's cloud spend from the store; await before ``check``."""
        now = now or datetime.now(UTC)
        self._day, self._month = day_start(now), month_start(now)
        await self._refresh()

    async def refresh_if_stale(self, max_age_s: float = REFRESH_S) -> None:
        """Read the spend again when the last read is older than ``max_age_s``: other lexitui
        processes (a gateway and the TUI, say) spend from the same budget."""
        now = time.monotonic()
        if now - self._read_at >= max_age_s:
            self._read_at = now
            self._roll(datetime.now(UTC))
            await self._refresh()

    async def _refresh(self) -> None:
        if self._day is None or self._month is None:
            raise RuntimeError("BudgetGuard.load() must be awaited before budgets are checked")
        # Never below what this process counted: its own last rows may still be on their way.
        day = await self._rows.spent_since(self._day)
        month = await self._rows.spent_since(self._month)
        self._day_spent = max(self._day_spent, day)
        self._month_spent = max(self._month_spent, month)

    def spent(self, now: datetime | None = None) -> tuple[Decimal, Decimal]:
        """(today's, this month's) cloud spend."""
        self._roll(now or datetime.now(UTC))
        return self._day_spent, self._month_spent

    def blocked(self, now: datetime | None = None) -> str | None:
        """Why no cloud request may be sent now, or None; the router's synchronous view."""
        config = self._config()
        limits = (
            (DAILY, config.daily_cloud_budget),
            (MONTHLY, config.monthly_cloud_budget),
        )
        if all(limit is None for _, limit in limits):
            return None
        day, month = self.spent(now)
        for (period, limit), spent in zip(limits, (day, month), strict=True):
            if limit is not None and spent >= limit:
                return f"the {period} cloud budget of ${limit} is spent (${spent} so far)"
        return None

    def check(self, now: datetime | None = None, provider_id: str = "cloud") -> None:
        """Raise ``BudgetExceeded`` when today's or this month's spend reached its limit."""
        why = self.blocked(now)
        if why is not None:
            raise BudgetExceeded(provider_id, why)

    async def after_spend(self, now: datetime | None = None, amount: Decimal | None = None) -> None:
        """Count a cloud request's cost, made at ``now`` (its ``created_at``), once its row is
        stored. Without an ``amount`` the totals are read again from the store."""
        now = now or datetime.now(UTC)
        if self._day is None:
            # Never loaded: the store (which holds this row) is the only truth, and with no
            # earlier total there is no crossing to announce.
            await self.load(now)
            return
        self._roll(now)
        before = (self._day_spent, self._month_spent)
        if amount is None:
            await self._refresh()
        else:
            # A late record from a period already closed counts only where it belongs.
            if day_start(now) == self._day:
                self._day_spent += amount
            if month_start(now) == self._month:
                self._month_spent += amount
        config = self._config()
        self._announce(DAILY, self._day, before[0], self._day_spent, config.daily_cloud_budget)
        self._announce(
            MONTHLY, self._month, before[1], self._month_spent, config.monthly_cloud_budget
        )

    def _announce(
        self,
        period: str,
        start: datetime | None,
        before: Decimal,
        after: Decimal,
        limit: Decimal | None,
    ) -> None:
        # Crossing the limit announces it; so does spending past a limit lowered meanwhile.
        if limit is None or start is None or after < limit:
            return
        key = (period, start, limit)
        if key in self._announced:
            return
        self._announced.add(key)
        self._bus.publish(CostThresholdReached(float(after), float(limit), period=period))

    def _roll(self, now: datetime) -> None:
        if self._day is None or self._month is None:
            raise RuntimeError("BudgetGuard.load() must be awaited before budgets are checked")
        day, month = day_start(now), month_start(now)
        # A new UTC day or month starts from nothing; a time before the loaded period (a late
        # record) changes nothing, so the totals never go back to an older period.
        if day > self._day:
            self._day, self._day_spent = day, Decimal(0)
        if month > self._month:
            self._month, self._month_spent = month, Decimal(0)

"""Cloud budgets: the request that crosses a limit announces it once; the next one is refused."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from lexitui.domain.routing import RoutingConfig
from lexitui.events import CostThresholdReached, Event, EventBus
from lexitui.routing.budgets import BudgetGuard
from lexitui.routing.errors import BudgetExceeded, FailureKind
from lexitui.store.routed_requests import RoutedRequestRows
from tests.routing.cost_support import NOON, open_rows, record


def listen(bus: EventBus) -> list[CostThresholdReached]:
    seen: list[CostThresholdReached] = []

    def keep(event: Event) -> None:
        if isinstance(event, CostThresholdReached):
            seen.append(event)

    bus.routing.subscribe(keep)
    return seen


async def spend(guard: BudgetGuard, rows: RoutedRequestRows, cost: Decimal, at: datetime) -> None:
    """What the router does around one cloud request."""
    guard.check(at, "openai")
    await rows.add(record(cost=cost, at=at))
    await guard.after_spend(at, cost)


async def test_daily_limit_fires_on_the_crossing_request_then_refuses(tmp_path: Path) -> None:
    bus = EventBus()
    seen = listen(bus)
    config = RoutingConfig(daily_cloud_budget=Decimal("0.01"))
    async with open_rows(tmp_path) as rows:
        guard = BudgetGuard(rows, bus, lambda: config)
        await guard.load(NOON)
        for minute, events_after in ((0, 0), (1, 0), (2, 1)):  # 0.004, 0.008, 0.012
            await spend(guard, rows, Decimal("0.004"), NOON + timedelta(minutes=minute))
            assert len(seen) == events_after
        assert seen[0].spent_usd == pytest.approx(0.012)
        assert seen[0].limit_usd == pytest.approx(0.01)
        assert seen[0].period == "daily"
        with pytest.raises(BudgetExceeded) as refused:
            guard.check(NOON + timedelta(minutes=3), "openai")
        assert refused.value.kind == FailureKind.QUOTA_EXCEEDED
        assert refused.value.provider_id == "openai"
        assert "daily" in str(refused.value)
        assert guard.blocked(NOON + timedelta(minutes=3)) is not None

        # A request already in flight that lands after the crossing does not announce again.
        await rows.add(record(cost=Decimal("0.004"), at=NOON + timedelta(minutes=4)))
        await guard.after_spend(NOON + timedelta(minutes=4), Decimal("0.004"))
        assert len(seen) == 1

        # The next UTC day starts from nothing.
        tomorrow = NOON + timedelta(days=1)
        guard.check(tomorrow)
        assert guard.spent(tomorrow)[0] == Decimal(0)


async def test_monthly_limit_across_days(tmp_path: Path) -> None:
    bus = EventBus()
    seen = listen(bus)
    config = RoutingConfig(monthly_cloud_budget=Decimal("0.01"))
    async with open_rows(tmp_path) as rows:
        guard = BudgetGuard(rows, bus, lambda: config)
        await guard.load(NOON)
        for day in range(3):  # 0.004 on three days of March
            await spend(guard, rows, Decimal("0.004"), NOON + timedelta(days=day))
        assert [e.period for e in seen] == ["monthly"]
        with pytest.raises(BudgetExceeded, match="monthly"):
            guard.check(NOON + timedelta(days=3))
        guard.check(NOON + timedelta(days=20))  # April: a new month


async def test_a_restart_still_knows_the_spend(tmp_path: Path) -> None:
    config = RoutingConfig(daily_cloud_budget=Decimal("0.01"), monthly_cloud_budget=Decimal(1))
    async with open_rows(tmp_path) as rows:
        first = BudgetGuard(rows, EventBus(), lambda: config)
        await first.load(NOON)
        for minute in range(3):
            await spend(first, rows, Decimal("0.004"), NOON + timedelta(minutes=minute))

    bus = EventBus()
    seen = listen(bus)
    async with open_rows(tmp_path) as rows:
        again = BudgetGuard(rows, bus, lambda: config)
        await again.load(NOON + timedelta(hours=1))
        assert again.spent(NOON + timedelta(hours=1)) == (Decimal("0.012"), Decimal("0.012"))
        with pytest.raises(BudgetExceeded):
            again.check(NOON + timedelta(hours=1))
    assert seen == []  # already announced before the restart


async def test_refresh_from_the_store_and_unpriced_requests(tmp_path: Path) -> None:
    bus = EventBus()
    seen = listen(bus)
    config = RoutingConfig(daily_cloud_budget=Decimal("0.01"))
    async with open_rows(tmp_path) as rows:
        guard = BudgetGuard(rows, bus, lambda: config)
        await guard.load(NOON)
        await rows.add(record(cost=None, at=NOON))  # unknown price: adds nothing
        await guard.after_spend(NOON)
        guard.check(NOON)
        # Another instance spent; after_spend without an amount reads the store again.
        await rows.add(record(cost=Decimal("0.02"), at=NOON))
        await guard.after_spend(NOON)
        assert len(seen) == 1
        with pytest.raises(BudgetExceeded):
            guard.check(NOON)


async def test_no_budget_never_blocks_and_load_is_required_with_one(tmp_path: Path) -> None:
    async with open_rows(tmp_path) as rows:
        free = BudgetGuard(rows, EventBus(), RoutingConfig)
        free.check(NOON)  # nothing configured: nothing to load
        limited = BudgetGuard(
            rows, EventBus(), lambda: RoutingConfig(daily_cloud_budget=Decimal(1))
        )
        with pytest.raises(RuntimeError, match="load"):
            limited.check(NOON)
        await rows.add(record(cost=Decimal(2), at=NOON))
        await limited.after_spend(NOON, Decimal(2))  # loads (the row is stored), no double count
        assert limited.spent(NOON) == (Decimal(2), Decimal(2))
        zero = BudgetGuard(rows, EventBus(), lambda: RoutingConfig(daily_cloud_budget=Decimal(0)))
        await zero.load(NOON)
        with pytest.raises(BudgetExceeded):
            zero.check(NOON)  # a zero budget means no cloud at all


async def test_landing_exactly_on_the_limit_counts_as_reaching_it(tmp_path: Path) -> None:
    bus = EventBus()
    seen = listen(bus)
    config = RoutingConfig(daily_cloud_budget=Decimal("0.01"))
    async with open_rows(tmp_path) as rows:
        guard = BudgetGuard(rows, bus, lambda: config)
        await guard.load(NOON)
        await spend(guard, rows, Decimal("0.005"), NOON)
        assert seen == []
        await spend(guard, rows, Decimal("0.005"), NOON)
        assert len(seen) == 1
        with pytest.raises(BudgetExceeded):
            guard.check(NOON)

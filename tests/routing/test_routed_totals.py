"""A period's reports are summed by SQLite: however many requests a week holds, the store hands
back one row per kind of request (provider, model, place, task, fallback, success), and the
figures are the same as adding the requests up one by one."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from lexitui.store.database import Store
from tests.routing.cost_support import NOON, open_rows, record

WEEK = timedelta(days=7)


async def test_a_week_of_requests_comes_back_as_one_row_per_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_rows(tmp_path) as rows:
        for i in range(150):
            at = NOON - timedelta(hours=i)
            await rows.add(record(cost=Decimal("0.001"), latency_ms=100.0 + i % 3, at=at))
            await rows.add(
                record(
                    "local",
                    "smollm2",
                    local=True,
                    avoided=Decimal("0.002"),
                    electricity=Decimal("0.0001"),
                    completion_tokens=10,
                    latency_ms=50.0,
                    at=at,
                )
            )
        fetched: list[int] = []
        fetch_all = Store.fetch_all

        async def counted(store: Store, sql: str, params: object = ()) -> list[object]:
            found = await fetch_all(store, sql, params)  # type: ignore[arg-type]
            fetched.append(len(found))
            return list(found)

        monkeypatch.setattr(Store, "fetch_all", counted)
        stats = await rows.stats(WEEK, now=NOON)
        savings = await rows.savings(WEEK, "openai:gpt-4o-mini", now=NOON)
        analytics = await rows.analytics(WEEK, now=NOON)

    assert fetched == [2, 2, 2]  # one cloud kind and one local kind, not 300 rows
    assert stats.total_requests == 300
    assert stats.local_requests == 150 and stats.cloud_requests == 150
    assert stats.total_cloud_cost == Decimal("0.150")
    assert stats.average_local_latency == timedelta(milliseconds=50.0)
    assert stats.average_cloud_latency == timedelta(milliseconds=101.0)
    assert savings.estimated_cloud_cost_avoided == Decimal("0.300")
    assert savings.estimated_local_electricity_cost == Decimal("0.0150")
    assert savings.net_savings == Decimal("0.2850")
    assert savings.local_tokens_generated == 1500
    assert analytics.cost_by_provider == {"openai": Decimal("0.150"), "local": Decimal("0.0150")}
    assert analytics.average_latency_ms_by_provider["openai"] == pytest.approx(101.0)

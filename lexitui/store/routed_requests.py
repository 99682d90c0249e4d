"""Rows of ``routed_requests``: every request the router handled, and the figures read from them.

Amounts are stored as decimal strings and summed as ``Decimal`` by SQLite itself
(``decimal_sum``), so a thousand requests of a ten-thousandth of a cent add up exactly (its own
``SUM`` would go through binary floats) and a period's reports never fetch its rows one by one
(``routed_totals``). A NULL amount is a price nobody knew: it is counted apart, never added as
zero.

Times are stored as UTC ISO strings with a fixed width (microseconds always written), so string
order is time order and the ``created_at`` index serves the period queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import aiosqlite

from lexitui.domain.language_model import TaskType
from lexitui.domain.routing import (
    ModelSavings,
    RoutedRequestRecord,
    RoutingStats,
    RoutingStrategy,
    SavingsReport,
    UsageAnalytics,
)
from lexitui.store.database import Store
from lexitui.store.routed_totals import NO_PROVIDER, TOTALS_SQL, Latency, Totals, amount

_COLUMNS = (
    "request_id, created_at, provider_id, model_id, is_local, strategy, reason, task, "
    "was_fallback, success, error, prompt_tokens, completion_tokens, latency_ms, ttft_ms, "
    "cost_usd, avoided_usd, electricity_usd, energy_wh, agent_id, workflow_id, source, prompt_text"
)
_PLACEHOLDERS = ", ".join("?" * len(_COLUMNS.split(",")))


@dataclass(frozen=True)
class DayModelUsage:
    """One model's requests and tokens on one UTC day (``YYYY-MM-DD``)."""

    day: str
    model_id: str
    requests: int
    prompt_tokens: int
    completion_tokens: int


class RoutedRequestRows:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def add(self, record: RoutedRequestRecord) -> None:
        await self.add_many([record])

    async def add_many(self, records: Sequence[RoutedRequestRecord]) -> None:
        """Several rows in one transaction."""
        async with self._store.write() as conn:
            await conn.executemany(
                f"INSERT INTO routed_requests ({_COLUMNS}) VALUES ({_PLACEHOLDERS})",
                [_values(record) for record in records],
            )

    async def recent(self, limit: int = 50) -> list[RoutedRequestRecord]:
        """The newest ``limit`` requests, newest first."""
        rows = await self._store.fetch_all(
            f"SELECT {_COLUMNS} FROM routed_requests ORDER BY created_at DESC LIMIT ?", (limit,)
        )
        return [_record(r) for r in rows]

    async def since(self, start: datetime) -> list[RoutedRequestRecord]:
        """Every request at or after ``start``, newest first."""
        rows = await self._store.fetch_all(
            f"SELECT {_COLUMNS} FROM routed_requests WHERE created_at >= ? "
            "ORDER BY created_at DESC",
            (iso(start),),
        )
        return [_record(r) for r in rows]

    async def spent_since(self, start: datetime) -> Decimal:
        """Cloud money spent at or after ``start`` (known prices only), summed by SQLite."""
        rows = await self._store.fetch_all(
            "SELECT decimal_sum(cost_usd) FROM routed_requests "
            "WHERE is_local = 0 AND created_at >= ?",
            (iso(start),),
        )
        return (amount(rows[0][0]) if rows else None) or Decimal(0)

    async def stats(self, period: timedelta, now: datetime | None = None) -> RoutingStats:
        """The period ``now - period .. now``. Local, cloud and failed requests are three
        separate counts that add up to the total; savings are net of electricity (unknown when
        no local request had a reference price); latencies are of answered requests only."""
        t = await self._totals(period, now)
        return RoutingStats(
            period=period,
            total_requests=t.requests,
            local_requests=t.local,
            cloud_requests=t.cloud,
            fallback_requests=t.fallbacks,
            failed_requests=t.failed,
            total_cloud_cost=t.cloud_cost,
            estimated_local_savings=_less(t.avoided, t.electricity),
            average_local_latency=_average(t.local_latency),
            average_cloud_latency=_average(t.cloud_latency),
            requests_by_model=dict(t.by_model),
        )

    async def analytics(self, period: timedelta, now: datetime | None = None) -> UsageAnalytics:
        """Usage per provider and task. ``cost_by_provider`` holds the money each provider
        cost (cloud prices, local electricity); a provider none of whose requests had a known
        price is absent from it, not shown as $0."""
        t = await self._totals(period, now)
        return UsageAnalytics(
            period=period,
            total_requests=t.requests,
            total_prompt_tokens=t.prompt_tokens,
            total_completion_tokens=t.completion_tokens,
            requests_by_provider=dict(t.by_provider),
            tokens_by_provider=dict(t.tokens_by_provider),
            cost_by_provider=dict(t.cost_by_provider),
            requests_by_task=dict(t.by_task),
            requests_by_source=dict(t.by_source),
            average_latency_ms_by_provider={
                p: v.average_ms
                for p, v in t.latency_by_provider.items()
                if v.average_ms is not None
            },
        )

    async def by_day_and_model(
        self, period: timedelta, now: datetime | None = None
    ) -> list[DayModelUsage]:
        """Requests and tokens per UTC day and model over the period, oldest day first;
        requests no provider took are not any model's."""
        end = now or datetime.now(UTC)
        rows = await self._store.fetch_all(
            "SELECT substr(created_at, 1, 10) AS day, model_id, COUNT(*), "
            "SUM(prompt_tokens), SUM(completion_tokens) FROM routed_requests "
            "WHERE created_at >= ? AND created_at <= ? AND provider_id != ? "
            "GROUP BY day, model_id ORDER BY day, model_id",
            (iso(end - period), iso(end), NO_PROVIDER),
        )
        return [DayModelUsage(r[0], r[1], r[2], r[3] or 0, r[4] or 0) for r in rows]

    async def savings(
        self, period: timedelta, compared_to: str | None, now: datetime | None = None
    ) -> SavingsReport:
        """What running locally saved: the reference cloud price of the local requests' tokens
        (``avoided_usd``, priced when each ran) less the electricity they used.

        With no reference model (``compared_to`` None), or local requests none of which was
        priced, the cost avoided is unknown, and so are the net savings and their share.
        """
        t = await self._totals(period, now)
        avoided = None if compared_to is None else t.avoided
        net = _less(avoided, t.electricity)
        by_model = tuple(
            ModelSavings(
                model_id=model,
                model_name=model,
                requests=m.requests,
                tokens_generated=m.tokens,
                estimated_savings=_less(None if compared_to is None else m.avoided, m.electricity),
                compared_to_cloud_model=compared_to,
            )
            for model, m in sorted(t.local_models.items())
            if m.requests
        )
        return SavingsReport(
            period=period,
            local_requests=t.local,
            local_tokens_generated=t.local_tokens,
            estimated_cloud_cost_avoided=avoided,
            actual_cloud_cost=t.cloud_cost,
            estimated_local_electricity_cost=t.electricity,
            net_savings=net,
            savings_percent=None if net is None or not avoided else float(net / avoided * 100),
            by_model=by_model,
            compared_to_cloud_model=compared_to,
            unpriced_cloud_requests=t.unpriced_cloud,
        )

    async def _totals(self, period: timedelta, now: datetime | None) -> Totals:
        end = now or datetime.now(UTC)
        groups = await self._store.fetch_all(TOTALS_SQL, (iso(end - period), iso(end)))
        totals = Totals()
        for group in groups:
            totals.add(group)
        return totals


def iso(at: datetime) -> str:
    """The stored form of a time: UTC, fixed width, so string order is time order."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def _less(amount: Decimal | None, minus: Decimal) -> Decimal | None:
    """``amount - minus``; unknown stays unknown."""
    return None if amount is None else amount - minus


def _average(latency: Latency) -> timedelta:
    average = latency.average_ms
    return timedelta(0) if average is None else timedelta(milliseconds=average)


def _values(r: RoutedRequestRecord) -> tuple[Any, ...]:
    return (
        r.request_id,
        iso(r.created_at),
        r.provider_id,
        r.model_id,
        int(r.is_local),
        r.strategy.value,
        r.reason,
        r.task.value,
        int(r.was_fallback),
        int(r.success),
        r.error,
        r.prompt_tokens,
        r.completion_tokens,
        r.latency_ms,
        r.ttft_ms,
        _money(r.cost_usd),
        _money(r.avoided_usd),
        _money(r.electricity_usd),
        r.energy_wh,
        r.agent_id,
        r.workflow_id,
        r.source,
        r.prompt_text,
    )


def _record(row: aiosqlite.Row) -> RoutedRequestRecord:
    return RoutedRequestRecord(
        request_id=str(row["request_id"]),
        provider_id=str(row["provider_id"]),
        model_id=str(row["model_id"]),
        is_local=bool(row["is_local"]),
        strategy=RoutingStrategy(row["strategy"]),
        reason=str(row["reason"]),
        task=TaskType(row["task"]),
        was_fallback=bool(row["was_fallback"]),
        success=bool(row["success"]),
        error=row["error"],
        prompt_tokens=int(row["prompt_tokens"]),
        completion_tokens=int(row["completion_tokens"]),
        latency_ms=float(row["latency_ms"]),
        ttft_ms=None if row["ttft_ms"] is None else float(row["ttft_ms"]),
        cost_usd=amount(row["cost_usd"]),
        avoided_usd=amount(row["avoided_usd"]),
        electricity_usd=amount(row["electricity_usd"]),
        energy_wh=None if row["energy_wh"] is None else float(row["energy_wh"]),
        agent_id=row["agent_id"],
        workflow_id=row["workflow_id"],
        source=str(row["source"]),
        prompt_text=row["prompt_text"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )

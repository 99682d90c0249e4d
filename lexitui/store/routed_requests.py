"""Rows of ``routed_requests``: every request the router handled, and the figures read from them.

Amounts are stored as decimal strings and summed here as ``Decimal``, so a thousand requests of
a ten-thousandth of a cent add up exactly (SQLite's ``SUM`` would go through binary floats).
A NULL amount is a price nobody knew: it is counted apart, never added as zero.

Times are stored as UTC ISO strings with a fixed width (microseconds always written), so string
order is time order and the ``created_at`` index serves the period queries.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
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

_COLUMNS = (
    "request_id, created_at, provider_id, model_id, is_local, strategy, reason, task, "
    "was_fallback, success, error, prompt_tokens, completion_tokens, latency_ms, ttft_ms, "
    "cost_usd, avoided_usd, electricity_usd, energy_wh, agent_id, workflow_id, source, prompt_text"
)
_PLACEHOLDERS = ", ".join("?" * len(_COLUMNS.split(",")))
# The provider of a request that no provider would take (a refusal): failed, neither local nor
# cloud, and no provider of the usage tables.
NO_PROVIDER = "none"


class RoutedRequestRows:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def add(self, record: RoutedRequestRecord) -> None:
        async with self._store.write() as conn:
            await conn.execute(
                f"INSERT INTO routed_requests ({_COLUMNS}) VALUES ({_PLACEHOLDERS})",
                _values(record),
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
        """Cloud money spent at or after ``start`` (known prices only)."""
        rows = await self._store.fetch_all(
            "SELECT cost_usd FROM routed_requests "
            "WHERE is_local = 0 AND cost_usd IS NOT NULL AND created_at >= ?",
            (iso(start),),
        )
        return sum((Decimal(r[0]) for r in rows), Decimal(0))

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
            average_latency_ms_by_provider={
                p: sum(v) / len(v) for p, v in t.latency_by_provider.items() if v
            },
        )

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

    async def _totals(self, period: timedelta, now: datetime | None) -> _Totals:
        end = now or datetime.now(UTC)
        rows = await self._store.fetch_all(
            "SELECT provider_id, model_id, is_local, task, was_fallback, success, prompt_tokens, "
            "completion_tokens, latency_ms, cost_usd, avoided_usd, electricity_usd "
            "FROM routed_requests WHERE created_at >= ? AND created_at <= ?",
            (iso(end - period), iso(end)),
        )
        totals = _Totals()
        for row in rows:
            totals.add(row)
        return totals


@dataclass
class _ModelTotals:
    requests: int = 0
    tokens: int = 0
    priced: int = 0  # requests with a reference price
    known_avoided: Decimal = Decimal(0)
    electricity: Decimal = Decimal(0)

    @property
    def avoided(self) -> Decimal | None:
        """The reference cost of these requests; unknown when none of them had a price."""
        return self.known_avoided if self.priced or not self.requests else None


@dataclass
class _Totals:
    """One pass over a period's rows; every report is read from these sums."""

    requests: int = 0
    local: int = 0
    cloud: int = 0
    fallbacks: int = 0
    failed: int = 0
    unpriced_cloud: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    local_tokens: int = 0
    cloud_cost: Decimal = Decimal(0)
    local_priced: int = 0  # answered local requests with a reference price
    known_avoided: Decimal = Decimal(0)
    electricity: Decimal = Decimal(0)
    local_latency: list[float] = field(default_factory=list)
    cloud_latency: list[float] = field(default_factory=list)
    by_model: Counter[str] = field(default_factory=Counter)
    by_provider: Counter[str] = field(default_factory=Counter)
    by_task: Counter[str] = field(default_factory=Counter)
    tokens_by_provider: Counter[str] = field(default_factory=Counter)
    cost_by_provider: dict[str, Decimal] = field(default_factory=dict)
    latency_by_provider: defaultdict[str, list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    local_models: defaultdict[str, _ModelTotals] = field(
        default_factory=lambda: defaultdict(_ModelTotals)
    )

    @property
    def avoided(self) -> Decimal | None:
        return self.known_avoided if self.local_priced or not self.local else None

    def add(self, row: aiosqlite.Row) -> None:
        provider, model = str(row["provider_id"]), str(row["model_id"])
        success, local = bool(row["success"]), bool(row["is_local"])
        prompt, completion = int(row["prompt_tokens"]), int(row["completion_tokens"])
        self.requests += 1
        self.fallbacks += bool(row["was_fallback"])
        self.by_task[str(row["task"])] += 1
        if provider == NO_PROVIDER:  # refused before any provider: a failure, nothing else
            self.failed += 1
            return
        self.prompt_tokens += prompt
        self.completion_tokens += completion
        self.by_model[model] += 1
        self.by_provider[provider] += 1
        self.tokens_by_provider[provider] += prompt + completion
        # Latency of failures is mostly time spent waiting for a timeout: not the provider's speed.
        if success:
            self.latency_by_provider[provider].append(float(row["latency_ms"]))
            (self.local_latency if local else self.cloud_latency).append(float(row["latency_ms"]))
        # Local, cloud and failed partition the requests: a failure is counted once, as failed.
        self.failed += not success
        if local:
            self._add_local(provider, model, success, completion, row)
        else:
            self._add_cloud(provider, success, _amount(row["cost_usd"]))

    def _add_local(
        self, provider: str, model: str, success: bool, completion: int, row: aiosqlite.Row
    ) -> None:
        electricity = _amount(row["electricity_usd"])
        per_model = self.local_models[model]
        if success:
            avoided = _amount(row["avoided_usd"])  # None: no reference price when it ran
            self.local += 1
            self.local_tokens += completion
            per_model.requests += 1
            per_model.tokens += completion
            if avoided is not None:
                self.local_priced += 1
                self.known_avoided += avoided
                per_model.priced += 1
                per_model.known_avoided += avoided
        if electricity is not None:
            self.electricity += electricity
            per_model.electricity += electricity
            self._add_cost(provider, electricity)

    def _add_cloud(self, provider: str, success: bool, cost: Decimal | None) -> None:
        self.cloud += success
        if cost is None:
            # A failed request with no price was most likely never billed; an answered one
            # with no price is money spent that nobody can put a number on.
            self.unpriced_cloud += success
            return
        self.cloud_cost += cost
        self._add_cost(provider, cost)

    def _add_cost(self, provider: str, amount: Decimal) -> None:
        self.cost_by_provider[provider] = self.cost_by_provider.get(provider, Decimal(0)) + amount


def iso(at: datetime) -> str:
    """The stored form of a time: UTC, fixed width, so string order is time order."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def _less(amount: Decimal | None, minus: Decimal) -> Decimal | None:
    """``amount - minus``; unknown stays unknown."""
    return None if amount is None else amount - minus


def _amount(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _average(latencies_ms: list[float]) -> timedelta:
    if not latencies_ms:
        return timedelta(0)
    return timedelta(milliseconds=sum(latencies_ms) / len(latencies_ms))


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
        cost_usd=_amount(row["cost_usd"]),
        avoided_usd=_amount(row["avoided_usd"]),
        electricity_usd=_amount(row["electricity_usd"]),
        energy_wh=None if row["energy_wh"] is None else float(row["energy_wh"]),
        agent_id=row["agent_id"],
        workflow_id=row["workflow_id"],
        source=str(row["source"]),
        prompt_text=row["prompt_text"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )

"""A period's figures of ``routed_requests``, summed by SQLite, never row by row in Python.

``TOTALS_SQL`` groups the period's requests by everything a report tells apart (provider,
model, local or cloud, task, where they came from, fallback, success) and sums the rest in each
group: tokens, latency, and the money columns with ``decimal_sum`` (exact). A week of gateway
traffic is then a few dozen groups, and ``Totals`` adds those up once for every report.

A NULL amount is a price nobody knew: counted apart (``COUNT`` of the column), never added as
zero.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiosqlite

# The provider of a request that no provider would take (a refusal): failed, neither local nor
# cloud, and no provider of the usage tables.
NO_PROVIDER = "none"

TOTALS_SQL = (
    "SELECT provider_id, model_id, is_local, task, source, was_fallback, success, "
    "COUNT(*) AS requests, "
    "SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens, "
    "SUM(latency_ms) AS latency_ms, "
    "COUNT(cost_usd) AS costed, decimal_sum(cost_usd) AS cost_usd, "
    "COUNT(avoided_usd) AS priced, decimal_sum(avoided_usd) AS avoided_usd, "
    "COUNT(electricity_usd) AS metered, decimal_sum(electricity_usd) AS electricity_usd "
    "FROM routed_requests WHERE created_at >= ? AND created_at <= ? "
    "GROUP BY provider_id, model_id, is_local, task, source, was_fallback, success"
)


@dataclass
class Latency:
    """Total and count of answered requests' latencies: their average, unknown when none."""

    total_ms: float = 0.0
    count: int = 0

    def add(self, total_ms: float, count: int) -> None:
        self.total_ms += total_ms
        self.count += count

    @property
    def average_ms(self) -> float | None:
        return self.total_ms / self.count if self.count else None


@dataclass
class ModelTotals:
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
class Totals:
    """The sums every report is read from, added up from ``TOTALS_SQL``'s groups."""

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
    local_latency: Latency = field(default_factory=Latency)
    cloud_latency: Latency = field(default_factory=Latency)
    by_model: Counter[str] = field(default_factory=Counter)
    by_provider: Counter[str] = field(default_factory=Counter)
    by_task: Counter[str] = field(default_factory=Counter)
    by_source: Counter[str] = field(default_factory=Counter)  # gateway, cli, tui...
    tokens_by_provider: Counter[str] = field(default_factory=Counter)
    cost_by_provider: dict[str, Decimal] = field(default_factory=dict)
    latency_by_provider: defaultdict[str, Latency] = field(
        default_factory=lambda: defaultdict(Latency)
    )
    local_models: defaultdict[str, ModelTotals] = field(
        default_factory=lambda: defaultdict(ModelTotals)
    )

    @property
    def avoided(self) -> Decimal | None:
        return self.known_avoided if self.local_priced or not self.local else None

    def add(self, group: aiosqlite.Row) -> None:
        """One group of requests alike in provider, model, place, task, source, fallback and
        success."""
        provider, model = str(group["provider_id"]), str(group["model_id"])
        success, local = bool(group["success"]), bool(group["is_local"])
        count = int(group["requests"])
        prompt, completion = int(group["prompt_tokens"]), int(group["completion_tokens"])
        self.requests += count
        self.fallbacks += count if group["was_fallback"] else 0
        self.by_task[str(group["task"])] += count
        self.by_source[str(group["source"])] += count
        if provider == NO_PROVIDER:  # refused before any provider: a failure, nothing else
            self.failed += count
            return
        self.prompt_tokens += prompt
        self.completion_tokens += completion
        self.by_model[model] += count
        self.by_provider[provider] += count
        self.tokens_by_provider[provider] += prompt + completion
        # Latency of failures is mostly time spent waiting for a timeout: not the provider's speed.
        if success:
            latency = float(group["latency_ms"])
            self.latency_by_provider[provider].add(latency, count)
            (self.local_latency if local else self.cloud_latency).add(latency, count)
        # Local, cloud and failed partition the requests: a failure is counted once, as failed.
        self.failed += 0 if success else count
        if local:
            self._add_local(provider, model, success, count, completion, group)
        else:
            self._add_cloud(provider, success, count, group)

    def _add_local(
        self,
        provider: str,
        model: str,
        success: bool,
        count: int,
        completion: int,
        group: aiosqlite.Row,
    ) -> None:
        per_model = self.local_models[model]
        if success:
            priced = int(group["priced"])  # the others had no reference price when they ran
            self.local += count
            self.local_tokens += completion
            per_model.requests += count
            per_model.tokens += completion
            if priced:
                avoided = amount(group["avoided_usd"]) or Decimal(0)
                self.local_priced += priced
                self.known_avoided += avoided
                per_model.priced += priced
                per_model.known_avoided += avoided
        if int(group["metered"]):
            electricity = amount(group["electricity_usd"]) or Decimal(0)
            self.electricity += electricity
            per_model.electricity += electricity
            self._add_cost(provider, electricity)

    def _add_cloud(self, provider: str, success: bool, count: int, group: aiosqlite.Row) -> None:
        costed = int(group["costed"])
        if success:
            self.cloud += count
            # An answered request with no price is money spent that nobody can put a number
            # on; a failed one with no price was most likely never billed.
            self.unpriced_cloud += count - costed
        if costed:
            cost = amount(group["cost_usd"]) or Decimal(0)
            self.cloud_cost += cost
            self._add_cost(provider, cost)

    def _add_cost(self, provider: str, value: Decimal) -> None:
        self.cost_by_provider[provider] = self.cost_by_provider.get(provider, Decimal(0)) + value


def amount(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))

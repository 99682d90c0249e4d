"""Cost and latency estimates for each provider, and recommendations that trade them off (the
roadmap's ``ICostPerformanceOptimizer``).

``estimate_cost`` and ``expected_latency`` are synchronous and allocation-light: the router calls
them for every candidate of every request (``cost_of`` / ``latency_of`` have its signatures).
Latencies come from running averages of the requests observed here; until a provider has
answered, only the local one has an estimate (its measured decode speed), and an unknown figure
is None, never a guess that would look like a measurement.

A local request's cost is its electricity: the energy measured on earlier requests per token
when there were some, else ``cpu_watts`` for the time the local speed says it will take.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from lexitui.domain.language_model import LanguageModelRequest
from lexitui.domain.routing import (
    AlternativeOption,
    CostEstimate,
    OptimizationGoal,
    OptimizationRecommendation,
    PerformanceEstimate,
    RoutedRequestRecord,
    SavingsReport,
    UsageAnalytics,
)
from lexitui.editions.entitlements import OPEN, Entitlements
from lexitui.editions.tiers import Action
from lexitui.routing.electricity import energy_cost
from lexitui.routing.errors import RoutingError
from lexitui.routing.money import usd
from lexitui.routing.prices import PriceBook
from lexitui.routing.provider import LanguageModelProvider, model_named
from lexitui.routing.tokens import estimate_tokens
from lexitui.store.performance import ModelPerformance
from lexitui.store.routed_requests import RoutedRequestRows

# The profiler's figures (benchmarks, averages of real requests), read from the store.
Profiles = Callable[[], Awaitable[Sequence[ModelPerformance]]]
PROFILES_MAX_AGE_S = 5.0  # read again at most this often: a bench finishing shows up soon

# Axis weights (cost, latency, quality) per goal; each axis is normalised to 0..1 first.
WEIGHTS: dict[OptimizationGoal, tuple[float, float, float]] = {
    OptimizationGoal.MINIMIZE_COST: (1.0, 0.0, 0.0),
    OptimizationGoal.MINIMIZE_LATENCY: (0.0, 1.0, 0.0),
    OptimizationGoal.MAXIMIZE_QUALITY: (0.0, 0.0, 1.0),
    OptimizationGoal.BALANCE_COST_LATENCY: (0.5, 0.5, 0.0),
    OptimizationGoal.BALANCE_ALL: (1 / 3, 1 / 3, 1 / 3),
}


@dataclass
class _Speed:
    """Running sums of one (provider, model)'s answered requests."""

    requests: int = 0
    ttft_ms: float = 0.0
    generation_s: float = 0.0
    tokens: int = 0
    electricity: Decimal = Decimal(0)
    electricity_tokens: int = 0

    def add(self, record: RoutedRequestRecord) -> None:
        ttft = record.ttft_ms or 0.0
        self.requests += 1
        self.ttft_ms += ttft
        self.generation_s += max(record.latency_ms - ttft, 0.0) / 1000
        self.tokens += record.completion_tokens
        if record.electricity_usd is not None:
            self.electricity += record.electricity_usd
            self.electricity_tokens += record.completion_tokens

    def latency(self, output_tokens: int) -> tuple[timedelta, float | None]:
        tps = self.tokens / self.generation_s if self.generation_s > 0 else None
        seconds = self.ttft_ms / self.requests / 1000 + (output_tokens / tps if tps else 0.0)
        return timedelta(seconds=seconds), tps


@dataclass(frozen=True)
class _Option:
    provider: LanguageModelProvider
    model: str
    cost: CostEstimate
    performance: PerformanceEstimate
    quality: float


class CostPerformanceOptimizer:
    def __init__(
        self,
        providers: Callable[[], Sequence[LanguageModelProvider]],
        prices: PriceBook,
        rows: RoutedRequestRows,
        price_provider_of: Callable[[str], str | None],
        quality_of: Callable[[str], float],
        local_speed: Callable[[str], float | None],
        profiles: Profiles | None = None,
        entitlements: Callable[[], Entitlements] = lambda: OPEN,
    ) -> None:
        """``price_provider_of`` maps a provider id to its genai-prices provider id;
        ``local_speed`` is a local model's measured decode speed in tokens/s, if known;
        ``profiles`` reads the profiler's stored figures (``refresh_profiles`` caches them, so
        the router's hot path stays synchronous). The estimates the router reads are open to
        every edition; the recommendations and reports are cost optimisation's."""
        self._entitlements = entitlements
        self._providers = providers
        self._prices = prices
        self._rows = rows
        self._price_provider_of = price_provider_of
        self._quality_of = quality_of
        self._local_speed = local_speed
        self._speeds: dict[tuple[str, str], _Speed] = {}
        self._provider_speeds: dict[str, _Speed] = {}
        self._read_profiles = profiles
        self._profiles: dict[str, tuple[float, float]] = {}  # model id -> (tokens/s, TTFT ms)
        self._profiles_read_at: float | None = None

    # --- the router's hot path --------------------------------------------------------------

    def estimate_cost(
        self, provider: LanguageModelProvider, model: str, input_tokens: int, output_tokens: int
    ) -> CostEstimate:
        if provider.is_local:
            electricity = self._local_electricity(provider.provider_id, model, output_tokens)
            return CostEstimate(
                provider.provider_id,
                model,
                electricity,
                input_tokens,
                output_tokens,
                is_local=True,
                local_electricity_cost=electricity,
            )
        price_provider = self._price_provider_of(provider.provider_id)
        cost = self._prices.price(price_provider, model, input_tokens, output_tokens)
        return CostEstimate(provider.provider_id, model, cost, input_tokens, output_tokens)

    def expected_latency(
        self, provider_id: str, model: str, output_tokens: int
    ) -> PerformanceEstimate:
        measured = self._speeds.get((provider_id, model))
        if measured is not None:
            latency, tps = measured.latency(output_tokens)
            return PerformanceEstimate(provider_id, model, latency, tps, measured=True)
        if self._is_local(provider_id):
            # Local models differ in speed by orders of magnitude: another model's average would
            # mislead, so only this model's own speed counts.
            profiled = self._profiles.get(model)
            if profiled is not None:  # the profiler measured it (a benchmark, earlier requests)
                tps, ttft_ms = profiled
                seconds = ttft_ms / 1000 + output_tokens / tps
                return PerformanceEstimate(
                    provider_id, model, timedelta(seconds=seconds), tps, measured=True
                )
            speed = self._local_speed(model)
            if speed:
                seconds = output_tokens / speed
                return PerformanceEstimate(provider_id, model, timedelta(seconds=seconds), speed)
            return PerformanceEstimate(provider_id, model, None)
        # A cloud API's other models run on the same service: its average is a fair stand-in.
        seen = self._provider_speeds.get(provider_id)
        if seen is not None:
            latency, tps = seen.latency(output_tokens)
            return PerformanceEstimate(provider_id, model, latency, tps, measured=True)
        return PerformanceEstimate(provider_id, model, None)

    def cost_of(
        self, provider: LanguageModelProvider, model: str, input_tokens: int, output_tokens: int
    ) -> Decimal | None:
        """``estimate_cost`` in the shape the router takes (``CostOf``)."""
        return self.estimate_cost(provider, model, input_tokens, output_tokens).estimated_cost

    def latency_of(
        self, provider: LanguageModelProvider, model: str, output_tokens: int
    ) -> timedelta | None:
        """``expected_latency`` in the shape the router takes (``LatencyOf``)."""
        return self.expected_latency(provider.provider_id, model, output_tokens).expected_latency

    async def refresh_profiles(self, max_age_s: float = PROFILES_MAX_AGE_S) -> None:
        """Read the profiler's measured speeds from the store, unless read in the last
        ``max_age_s`` seconds."""
        now = time.monotonic()
        if self._read_profiles is None or (
            self._profiles_read_at is not None and now - self._profiles_read_at < max_age_s
        ):
            return
        self._profiles_read_at = now
        self._profiles = {
            p.model_id: (tps, _ttft_ms(p))
            for p in await self._read_profiles()
            if (tps := p.measured_tokens_per_second)
        }

    def observe(self, record: RoutedRequestRecord) -> None:
        """Feed a finished request into the running averages (failures say nothing of speed)."""
        if not record.success or record.completion_tokens <= 0:
            return
        self._speeds.setdefault((record.provider_id, record.model_id), _Speed()).add(record)
        self._provider_speeds.setdefault(record.provider_id, _Speed()).add(record)

    # --- recommendations and reports -----------------------------------------------------------

    async def estimate_costs(self, request: LanguageModelRequest) -> list[CostEstimate]:
        """The cost of ``request`` on every provider that could take it now."""
        self._entitlements().require(Action.COST_OPTIMISATION)
        input_tokens, output_tokens = estimate_tokens(request)
        return [
            self.estimate_cost(provider, model, input_tokens, output_tokens)
            for provider, model in self._available(request)
        ]

    async def get_recommendation(
        self, request: LanguageModelRequest, goal: OptimizationGoal
    ) -> OptimizationRecommendation:
        self._entitlements().require(Action.COST_OPTIMISATION)
        await self.refresh_profiles()
        input_tokens, output_tokens = estimate_tokens(request)
        options = [
            _Option(
                provider,
                model,
                self.estimate_cost(provider, model, input_tokens, output_tokens),
                self.expected_latency(provider.provider_id, model, output_tokens),
                self._quality_of(provider.provider_id),
            )
            for provider, model in self._available(request)
        ]
        if not options:
            raise RoutingError("no provider can take this request now")
        scored = _score(options, WEIGHTS[goal])
        # Stable sort: among equal scores the providers keep their configured order.
        scored.sort(key=lambda pair: -pair[1])
        best, best_score = scored[0]
        return OptimizationRecommendation(
            provider_id=best.provider.provider_id,
            model_id=best.model,
            goal=goal,
            score=best_score,
            rationale=_rationale(best, goal),
            cost_estimate=best.cost,
            performance_estimate=best.performance,
            alternatives=tuple(
                AlternativeOption(o.provider.provider_id, o.model, score, _rationale(o, goal))
                for o, score in scored[1:]
            ),
        )

    async def get_analytics(self, period: timedelta) -> UsageAnalytics:
        self._entitlements().require(Action.DETAILED_ANALYTICS)
        return await self._rows.analytics(period)

    async def get_savings_report(self, period: timedelta) -> SavingsReport:
        self._entitlements().require(Action.COST_OPTIMISATION)
        return await self._rows.savings(period, self._prices.reference_label())

    # --- helpers ------------------------------------------------------------------------------

    def _available(self, request: LanguageModelRequest) -> list[tuple[LanguageModelProvider, str]]:
        out = []
        for provider in self._providers():
            if not provider.available_now()[0]:
                continue
            model = _model_for(provider, request.model)
            if model:
                out.append((provider, model))
        return out

    def _is_local(self, provider_id: str) -> bool:
        return any(p.is_local and p.provider_id == provider_id for p in self._providers())

    def _local_electricity(
        self, provider_id: str, model: str, output_tokens: int
    ) -> Decimal | None:
        seen = self._speeds.get((provider_id, model))
        if seen is not None and seen.electricity_tokens > 0:
            return seen.electricity / seen.electricity_tokens * output_tokens
        profiled = self._profiles.get(model)
        speed = self._local_speed(model) or (profiled[0] if profiled else None)
        if not speed:
            return None
        costs = self._prices.costs
        energy_wh = costs.cpu_watts * (output_tokens / speed) / 3600
        return energy_cost(energy_wh, costs.electricity_usd_per_kwh)


def _ttft_ms(profile: ModelPerformance) -> float:
    """The first-token time that goes with ``measured_tokens_per_second``."""
    if profile.bench_tokens_per_second and profile.bench_ttft_ms is not None:
        return profile.bench_ttft_ms
    return profile.average_ttft_ms


def _model_for(provider: LanguageModelProvider, model: str | None) -> str | None:
    """The model ``provider`` would answer ``model`` with: a "provider:model" or
    "provider/model" name for it, a model it lists, else its default."""
    if model:
        for prefix in (f"{provider.provider_id}:", f"{provider.provider_id}/"):
            if model.startswith(prefix):
                return model[len(prefix) :]
        named = model_named(provider, model)
        if named is not None:
            return named
    return provider.default_model


def _score(
    options: list[_Option], weights: tuple[float, float, float]
) -> list[tuple[_Option, float]]:
    costs = _normalise([_float(o.cost.estimated_cost) for o in options])
    latencies = _normalise([_seconds(o.performance.expected_latency) for o in options])
    qualities = _normalise([-o.quality for o in options])
    w_cost, w_latency, w_quality = weights
    return [
        (o, round(w_cost * c + w_latency * lat + w_quality * q, 6))
        for o, c, lat, q in zip(options, costs, latencies, qualities, strict=True)
    ]


def _normalise(values: list[float | None]) -> list[float]:
    """1 for the best (lowest) value, 0 for the worst; unknown (None) ranks worst of all."""
    known = [v for v in values if v is not None]
    if not known:
        return [0.0] * len(values)
    low, high = min(known), max(known)
    span = high - low
    return [0.0 if v is None else (1.0 if span == 0 else (high - v) / span) for v in values]


def _float(amount: Decimal | None) -> float | None:
    return None if amount is None else float(amount)


def _seconds(latency: timedelta | None) -> float | None:
    return None if latency is None else latency.total_seconds()


def _rationale(option: _Option, goal: OptimizationGoal) -> str:
    cost = option.cost.estimated_cost
    if cost is None:
        cost_text = "cost unknown"
    elif option.cost.is_local:
        cost_text = f"cost ~{usd(cost)} in electricity"
    else:
        cost_text = f"cost ~{usd(cost)}"
    latency = option.performance.expected_latency
    if latency is None:
        latency_text = "latency unknown"
    else:
        how = "measured" if option.performance.measured else "estimated"
        latency_text = f"latency ~{latency.total_seconds():.2f} s ({how})"
    where = "local" if option.provider.is_local else "cloud"
    return (
        f"{goal.value}: {option.provider.provider_id} ({where}, {option.model}): {cost_text}, "
        f"{latency_text}, quality {option.quality:.2f}"
    )

"""The router's records (the roadmap's ILlmRouter, IFallbackManager, ICostPerformanceOptimizer
and IOrchestrationLlmIntegration types), in Python form.

Money is ``Decimal`` (USD) so sums of many tiny per-request prices stay exact; a price that is
not known is ``None``, never zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

# Re-exported with the records that use them; they live with the roadmap's other enums.
from lexitui.domain.enums import OptimizationGoal as OptimizationGoal
from lexitui.domain.enums import RoutingStrategy as RoutingStrategy
from lexitui.domain.enums import TaskType

T = TypeVar("T")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RoutingOptions:
    strategy: RoutingStrategy | None = None  # None: the task's strategy, else the default
    allow_fallback: bool = True
    local_timeout: timedelta | None = None
    min_tokens_for_local: int | None = None
    max_tokens_for_local: int | None = None
    provider_id: str | None = None  # pin a provider (an override); the router still checks it


@dataclass(frozen=True)
class RoutingConfig:
    default_strategy: RoutingStrategy = RoutingStrategy.PREFER_LOCAL
    enable_fallback: bool = True
    preferred_local_model: str | None = None
    local_timeout_seconds: int = 120
    local_max_concurrent: int = 2
    preferred_cloud_provider: str | None = None
    preferred_cloud_model: str | None = None
    task_routing: dict[TaskType, RoutingStrategy] = field(default_factory=dict)
    daily_cloud_budget: Decimal | None = None
    monthly_cloud_budget: Decimal | None = None
    min_tokens_for_local: int | None = None
    max_tokens_for_local: int | None = None


@dataclass(frozen=True)
class RoutingDecision:
    provider_id: str
    reason: str
    used_strategy: RoutingStrategy
    model_id: str = ""
    was_fallback: bool = False
    considered_providers: tuple[str, ...] = ()
    estimated_cost: Decimal | None = None  # None: the price is not known
    estimated_latency: timedelta | None = None


@dataclass(frozen=True)
class RoutingStats:
    period: timedelta
    total_requests: int = 0
    local_requests: int = 0
    cloud_requests: int = 0
    fallback_requests: int = 0
    failed_requests: int = 0
    total_cloud_cost: Decimal = Decimal(0)
    estimated_local_savings: Decimal | None = Decimal(0)  # None: no reference price known
    average_local_latency: timedelta = timedelta(0)
    average_cloud_latency: timedelta = timedelta(0)
    requests_by_model: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FallbackOptions:
    max_attempts: int = 3
    initial_timeout: timedelta = timedelta(seconds=30)
    timeout_multiplier: float = 1.5
    retry_on_rate_limit: bool = True
    retry_on_timeout: bool = True
    retry_on_error: bool = False


@dataclass(frozen=True)
class FallbackAttempt:
    provider_id: str
    model_id: str
    success: bool
    duration: timedelta
    error: str | None = None
    kind: str | None = None  # the FailureKind of a failed attempt


@dataclass(frozen=True)
class FallbackResult(Generic[T]):
    success: bool
    value: T | None = None
    final_provider: str | None = None
    attempts: int = 0
    attempt_history: tuple[FallbackAttempt, ...] = ()


@dataclass(frozen=True)
class FallbackConfig:
    """Fallback chains per task type (provider ids, tried in order) and the cooldown rule: a
    provider failing ``allowed_fails`` times in a row is skipped for ``cooldown``; failing again
    right after a cooldown doubles it, up to ``max_cooldown``."""

    chains: dict[TaskType, tuple[str, ...]] = field(default_factory=dict)
    allowed_fails: int = 3
    cooldown: timedelta = timedelta(seconds=30)
    max_cooldown: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class CostEstimate:
    provider_id: str
    model_id: str
    estimated_cost: Decimal | None  # None: no price known for this model
    estimated_input_tokens: int
    estimated_output_tokens: int
    is_local: bool = False
    local_electricity_cost: Decimal | None = None
    currency: str = "USD"


@dataclass(frozen=True)
class PerformanceEstimate:
    provider_id: str
    model_id: str
    expected_latency: timedelta | None
    tokens_per_second: float | None = None
    measured: bool = False  # from requests recorded here, not a default


@dataclass(frozen=True)
class AlternativeOption:
    provider_id: str
    model_id: str
    score: float
    rationale: str


@dataclass(frozen=True)
class OptimizationRecommendation:
    provider_id: str
    model_id: str
    goal: OptimizationGoal
    score: float = 0.0
    rationale: str = ""
    cost_estimate: CostEstimate | None = None
    performance_estimate: PerformanceEstimate | None = None
    alternatives: tuple[AlternativeOption, ...] = ()


@dataclass(frozen=True)
class ModelSavings:
    model_id: str
    model_name: str
    requests: int = 0
    tokens_generated: int = 0
    estimated_savings: Decimal | None = Decimal(0)  # None: no reference price known
    compared_to_cloud_model: str | None = None


@dataclass(frozen=True)
class SavingsReport:
    period: timedelta
    local_requests: int = 0
    local_tokens_generated: int = 0
    # None: unknown (no reference model, or no local request had its price), never $0
    estimated_cloud_cost_avoided: Decimal | None = Decimal(0)
    actual_cloud_cost: Decimal = Decimal(0)
    estimated_local_electricity_cost: Decimal = Decimal(0)
    net_savings: Decimal | None = Decimal(0)
    savings_percent: float | None = 0.0
    by_model: tuple[ModelSavings, ...] = ()
    compared_to_cloud_model: str | None = None  # None: no reference price, nothing avoided
    unpriced_cloud_requests: int = 0  # cloud requests whose model has no known price


@dataclass(frozen=True)
class UsageAnalytics:
    period: timedelta
    total_requests: int = 0
    total_prompt_tokens: int = 0
    total_completion_tokens: int = 0
    requests_by_provider: dict[str, int] = field(default_factory=dict)
    tokens_by_provider: dict[str, int] = field(default_factory=dict)
    cost_by_provider: dict[str, Decimal] = field(default_factory=dict)
    requests_by_task: dict[str, int] = field(default_factory=dict)
    average_latency_ms_by_provider: dict[str, float] = field(default_factory=dict)
    # Where the requests came from: "gateway", "cli", "tui" (the Runtime chat)...
    requests_by_source: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LlmOverride:
    provider_id: str | None = None
    model_id: str | None = None
    strategy: RoutingStrategy | None = None
    parameters: dict[str, Any] | None = None


@dataclass(frozen=True)
class OrchestrationLlmConfig:
    default_strategy: RoutingStrategy = RoutingStrategy.PREFER_LOCAL
    default_local_model: str | None = None
    default_cloud_provider: str | None = None
    default_cloud_model: str | None = None
    agent_overrides: dict[str, LlmOverride] = field(default_factory=dict)
    task_defaults: dict[TaskType, LlmOverride] = field(default_factory=dict)


@dataclass(frozen=True)
class RoutedRequestRecord:
    """One request as the store keeps it: the decision, tokens, latency and cost, never the
    prompt text unless recording prompts is switched on."""

    request_id: str
    provider_id: str
    model_id: str
    is_local: bool
    strategy: RoutingStrategy
    reason: str
    task: TaskType = TaskType.CHAT
    was_fallback: bool = False
    success: bool = True
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    cost_usd: Decimal | None = None  # cloud price paid; None: unknown price (or local)
    avoided_usd: Decimal | None = None  # local: what the reference cloud model would have cost
    electricity_usd: Decimal | None = None  # local: energy used times the $/kWh
    energy_wh: float | None = None
    agent_id: str | None = None
    workflow_id: str | None = None
    source: str = "api"  # "gateway", "cli", "tui"
    prompt_text: str | None = None
    created_at: datetime = field(default_factory=_now)

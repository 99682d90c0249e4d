"""How each of the nine routing strategies orders the providers that can take a request.

Only eligible providers reach here (available, not cooling down, within budget and context);
the order decides who answers and who the fallbacks are. Unknown estimates (None) rank after
known ones, so a provider with no price is never taken for the cheapest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from lexitui.domain.routing import RoutingStrategy
from lexitui.routing.money import usd
from lexitui.routing.provider import LanguageModelProvider

_UNKNOWN_COST = Decimal("Infinity")
_UNKNOWN_LATENCY = timedelta.max


@dataclass
class Candidate:
    provider: LanguageModelProvider
    model: str
    cost: Decimal | None
    latency: timedelta | None
    quality: float
    load: float  # requests in flight for its capacity
    why: str = ""


def order_candidates(
    strategy: RoutingStrategy,
    candidates: list[Candidate],
    *,
    preferred_cloud: str | None,
    turn: int,
) -> list[Candidate]:
    local = [c for c in candidates if c.provider.is_local]
    cloud = sorted(
        (c for c in candidates if not c.provider.is_local),
        key=lambda c: (c.provider.provider_id != preferred_cloud, -c.quality),
    )
    match strategy:
        case RoutingStrategy.PREFER_LOCAL | RoutingStrategy.LOCAL_ONLY:
            ordered = local + cloud
            _say(ordered, "the local model is available", "cloud")
        case RoutingStrategy.PREFER_CLOUD | RoutingStrategy.CLOUD_ONLY:
            ordered = cloud + local
            _say(ordered, "the local model", "the preferred cloud provider is available")
        case RoutingStrategy.COST_OPTIMIZED:
            ordered = sorted(candidates, key=lambda c: _cost(c))
            for c in ordered:
                c.why = f"lowest estimated cost ({usd(c.cost)})"
        case RoutingStrategy.PERFORMANCE_OPTIMIZED:
            ordered = sorted(candidates, key=lambda c: c.latency or _UNKNOWN_LATENCY)
            for c in ordered:
                c.why = f"lowest expected latency ({_ms(c.latency)})"
        case RoutingStrategy.QUALITY_OPTIMIZED:
            ordered = sorted(candidates, key=lambda c: -c.quality)
            for c in ordered:
                c.why = f"highest quality rating ({c.quality:.2f})"
        case RoutingStrategy.ROUND_ROBIN:
            base = sorted(candidates, key=lambda c: c.provider.provider_id)
            shift = turn % len(base) if base else 0
            ordered = base[shift:] + base[:shift]
            for c in ordered:
                c.why = "its turn in the rotation"
        case RoutingStrategy.LOAD_BALANCED:
            ordered = sorted(candidates, key=lambda c: c.load)
            for c in ordered:
                c.why = f"least loaded ({c.load:.0%} of its capacity in use)"
    return ordered


def _say(ordered: list[Candidate], local_why: str, cloud_why: str) -> None:
    for c in ordered:
        c.why = local_why if c.provider.is_local else cloud_why


def _cost(c: Candidate) -> Decimal:
    return _UNKNOWN_COST if c.cost is None else c.cost


def _ms(latency: timedelta | None) -> str:
    return "unknown" if latency is None else f"{latency.total_seconds() * 1000:.0f} ms"

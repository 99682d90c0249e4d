"""The cost/performance optimizer: estimates, and each goal's pick among simple providers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from lexitui.domain.language_model import LanguageModelRequest, Message
from lexitui.domain.routing import OptimizationGoal
from lexitui.routing.errors import RoutingError
from lexitui.routing.optimizer import CostPerformanceOptimizer
from lexitui.routing.prices import PriceBook
from lexitui.routing.provider import LanguageModelProvider
from lexitui.routing.settings import CostSettings
from lexitui.routing.tokens import estimate_tokens
from lexitui.store.routed_requests import RoutedRequestRows
from tests.routing.cost_support import NOON, TestProvider, open_rows, record

ASK = LanguageModelRequest(messages=(Message("user", "Say hello in one line."),), max_tokens=256)
PRICE_PROVIDER = {"openai": "openai", "anthropic": "anthropic", "mystery": "openai"}
QUALITY = {"local": 0.5, "openai": 0.8, "anthropic": 0.95, "mystery": 0.7}


def build(
    rows: RoutedRequestRows,
    providers: list[LanguageModelProvider],
    local_speed: float | None = 20.0,
) -> CostPerformanceOptimizer:
    optimizer = CostPerformanceOptimizer(
        lambda: providers,
        PriceBook(CostSettings(), default_reference=("openai", "gpt-4o-mini")),
        rows,
        PRICE_PROVIDER.get,
        QUALITY.__getitem__,
        lambda model: local_speed if model == "smollm2" else None,
    )
    # The clouds have answered before: gpt-4o-mini in ~1.2 s, Sonnet in ~0.6 s for 256 tokens.
    optimizer.observe(
        record("openai", "gpt-4o-mini", latency_ms=1200.0, ttft_ms=200.0, completion_tokens=256)
    )
    optimizer.observe(
        record(
            "anthropic",
            "claude-sonnet-4-5",
            latency_ms=600.0,
            ttft_ms=100.0,
            completion_tokens=256,
        )
    )
    return optimizer


def three() -> list[LanguageModelProvider]:
    return [
        TestProvider("local", "smollm2", local=True),
        TestProvider("openai", "gpt-4o-mini"),
        TestProvider("anthropic", "claude-sonnet-4-5"),
    ]


@pytest.mark.parametrize(
    ("goal", "expected"),
    [
        (OptimizationGoal.MINIMIZE_COST, "local"),  # electricity only
        (OptimizationGoal.MINIMIZE_LATENCY, "anthropic"),  # 0.6 s
        (OptimizationGoal.MAXIMIZE_QUALITY, "anthropic"),  # rated 0.95
        (OptimizationGoal.BALANCE_COST_LATENCY, "openai"),  # nearly as cheap, nearly as fast
        (OptimizationGoal.BALANCE_ALL, "openai"),
    ],
)
async def test_each_goal_picks_its_provider(
    tmp_path: Path, goal: OptimizationGoal, expected: str
) -> None:
    async with open_rows(tmp_path) as rows:
        recommendation = await build(rows, three()).get_recommendation(ASK, goal)
    assert recommendation.provider_id == expected
    assert recommendation.goal == goal
    assert 0.0 <= recommendation.score <= 1.0
    assert expected in recommendation.rationale
    others = {a.provider_id for a in recommendation.alternatives}
    assert others == {"local", "openai", "anthropic"} - {expected}
    scores = [recommendation.score, *(a.score for a in recommendation.alternatives)]
    assert scores == sorted(scores, reverse=True)
    assert all(a.rationale for a in recommendation.alternatives)


async def test_unknown_cost_and_latency_rank_worst_and_say_so(tmp_path: Path) -> None:
    providers: list[LanguageModelProvider] = [
        TestProvider("mystery", "mystery-1"),  # no price anywhere, never observed
        TestProvider("openai", "gpt-4o-mini"),
    ]
    async with open_rows(tmp_path) as rows:
        optimizer = build(rows, providers)
        cheapest = await optimizer.get_recommendation(ASK, OptimizationGoal.MINIMIZE_COST)
        fastest = await optimizer.get_recommendation(ASK, OptimizationGoal.MINIMIZE_LATENCY)
    assert cheapest.provider_id == fastest.provider_id == "openai"
    (other,) = cheapest.alternatives
    assert other.provider_id == "mystery"
    assert other.score == 0.0
    assert "cost unknown" in other.rationale
    assert "latency unknown" in other.rationale


async def test_cost_estimates(tmp_path: Path) -> None:
    providers = [*three(), TestProvider("mystery", "gone", available=False)]
    async with open_rows(tmp_path) as rows:
        optimizer = build(rows, providers)
        estimates = {e.provider_id: e for e in await optimizer.estimate_costs(ASK)}
        unknown_speed = build(rows, three(), local_speed=None)
        local_unknown = unknown_speed.estimate_cost(providers[0], "smollm2", 10, 256)
    assert set(estimates) == {"local", "openai", "anthropic"}  # the unavailable one is left out
    prompt, output = estimate_tokens(ASK)
    cloud = estimates["openai"]
    assert (cloud.estimated_input_tokens, cloud.estimated_output_tokens) == (prompt, output)
    assert cloud.estimated_cost == PriceBook(CostSettings()).price(
        "openai", "gpt-4o-mini", prompt, output
    )
    local = estimates["local"]
    assert local.is_local
    # 65 W for 256 tokens at 20 tokens/s (12.8 s) at $0.15/kWh.
    assert local.estimated_cost == local.local_electricity_cost
    assert local.estimated_cost == pytest.approx(Decimal(65 * 12.8 / 3600 / 1000 * 0.15))
    assert local_unknown.estimated_cost is None


async def test_measured_electricity_replaces_the_estimate(tmp_path: Path) -> None:
    async with open_rows(tmp_path) as rows:
        optimizer = build(rows, three())
        optimizer.observe(
            record(
                "local",
                "smollm2",
                local=True,
                electricity=Decimal("0.0001"),
                completion_tokens=100,
                latency_ms=2000.0,
            )
        )
        local = optimizer.estimate_cost(three()[0], "smollm2", 10, 300)
    assert local.estimated_cost == Decimal("0.0003")


async def test_latency_estimates(tmp_path: Path) -> None:
    async with open_rows(tmp_path) as rows:
        optimizer = build(rows, three())
        cloud = optimizer.expected_latency("openai", "gpt-4o-mini", 512)
        local = optimizer.expected_latency("local", "smollm2", 100)
        unseen = optimizer.expected_latency("mystery", "mystery-1", 100)
        optimizer.observe(record("mystery", "mystery-1", success=False, latency_ms=9.0))
        still_unseen = optimizer.expected_latency("mystery", "mystery-1", 100)
        provider = three()[1]
        adapted = optimizer.latency_of(provider, "gpt-4o-mini", 512)
        cost = optimizer.cost_of(provider, "gpt-4o-mini", 10, 10)
    assert cloud.measured and cloud.tokens_per_second == pytest.approx(256.0)
    assert cloud.expected_latency == timedelta(seconds=2.2)  # 0.2 s first token + 512 / 256
    assert not local.measured and local.expected_latency == timedelta(seconds=5)
    assert unseen.expected_latency is None and not unseen.measured
    assert still_unseen.expected_latency is None  # a failure says nothing about speed
    assert adapted == cloud.expected_latency
    assert cost == PriceBook(CostSettings()).price("openai", "gpt-4o-mini", 10, 10)


async def test_reports_come_from_the_rows(tmp_path: Path) -> None:
    async with open_rows(tmp_path) as rows:
        await rows.add(
            record(
                "local",
                "smollm2",
                local=True,
                avoided=Decimal("0.002"),
                electricity=Decimal("0.0005"),
                completion_tokens=10,
                at=NOON,
            )
        )
        optimizer = build(rows, three())
        savings = await optimizer.get_savings_report(timedelta(days=10_000))
        analytics = await optimizer.get_analytics(timedelta(days=10_000))
    assert savings.net_savings == Decimal("0.0015")
    assert savings.compared_to_cloud_model == "openai:gpt-4o-mini"
    assert analytics.requests_by_provider == {"local": 1}


async def test_no_provider_available_is_an_error(tmp_path: Path) -> None:
    async with open_rows(tmp_path) as rows:
        optimizer = build(rows, [TestProvider("openai", "gpt-4o-mini", available=False)])
        with pytest.raises(RoutingError):
            await optimizer.get_recommendation(ASK, OptimizationGoal.BALANCE_ALL)


async def test_cloud_speed_stands_in_for_its_other_models_but_local_does_not(
    tmp_path: Path,
) -> None:
    async with open_rows(tmp_path) as rows:
        optimizer = build(rows, three(), local_speed=None)
        optimizer.observe(
            record("local", "smollm2", local=True, latency_ms=1000.0, completion_tokens=50)
        )
        other_cloud_model = optimizer.expected_latency("openai", "gpt-4o", 256)
        other_local_model = optimizer.expected_latency("local", "llama-70b", 256)
    assert other_cloud_model.measured
    assert other_cloud_model.expected_latency == timedelta(seconds=1.2)
    assert other_local_model.expected_latency is None

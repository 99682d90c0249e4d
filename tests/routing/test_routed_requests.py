"""The routed-requests table: records round-trip, and stats, analytics and savings per period."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from lexitui.domain.language_model import TaskType
from lexitui.domain.routing import RoutingStrategy
from tests.routing.cost_support import NOON, open_rows, record

DAY = timedelta(days=1)


async def test_a_record_round_trips_and_recent_is_newest_first(tmp_path: Path) -> None:
    full = record(
        "anthropic",
        "claude-3-5-haiku-latest",
        cost=Decimal("0.0001234"),
        task=TaskType.SUMMARIZATION,
        was_fallback=True,
        prompt_tokens=10,
        completion_tokens=20,
        latency_ms=812.5,
        ttft_ms=90.0,
        agent_id="researcher",
        workflow_id="wf",
        source="gateway",
        prompt_text="hello",
    )
    async with open_rows(tmp_path) as rows:
        await rows.add(record(at=NOON - timedelta(hours=2)))
        await rows.add(full)
        await rows.add(record(at=NOON - timedelta(hours=1)))
        recent = await rows.recent(2)
        since = await rows.since(NOON - timedelta(minutes=90))
    assert recent[0] == full
    assert recent[1].created_at == NOON - timedelta(hours=1)
    assert recent[0].strategy == RoutingStrategy.PREFER_LOCAL
    assert [r.created_at for r in since] == [NOON, NOON - timedelta(hours=1)]


async def test_thousand_tiny_costs_sum_exactly(tmp_path: Path) -> None:
    tiny = Decimal("0.0000001")  # a float sum of these drifts (0.1 + 0.2 problem)
    async with open_rows(tmp_path) as rows:
        for i in range(1000):
            await rows.add(record(cost=tiny, at=NOON - timedelta(seconds=i)))
        spent = await rows.spent_since(NOON - DAY)
        stats = await rows.stats(DAY, now=NOON)
        analytics = await rows.analytics(DAY, now=NOON)
    assert sum([float(tiny)] * 1000) != 0.0001
    assert spent == Decimal("0.0001")
    assert stats.total_cloud_cost == Decimal("0.0001")
    assert analytics.cost_by_provider == {"openai": Decimal("0.0001")}


async def test_stats_analytics_and_savings_over_a_period(tmp_path: Path) -> None:
    async with open_rows(tmp_path) as rows:
        for r in (
            record(
                "local",
                "smollm2",
                local=True,
                avoided=Decimal("0.004"),
                electricity=Decimal("0.001"),
                completion_tokens=100,
                prompt_tokens=50,
                latency_ms=1000.0,
            ),
            record(
                "local",
                "smollm2",
                local=True,
                avoided=Decimal("0.002"),
                electricity=Decimal("0.0005"),
                completion_tokens=40,
                prompt_tokens=10,
                latency_ms=3000.0,
                task=TaskType.SUMMARIZATION,
                source="tui",
            ),
            record(
                "local",
                "qwen",
                local=True,
                avoided=None,
                electricity=None,
                success=False,
                error="engine crashed",
                latency_ms=60000.0,
            ),
            record(
                "openai",
                cost=Decimal("0.01"),
                latency_ms=500.0,
                was_fallback=True,
                prompt_tokens=30,
                completion_tokens=70,
            ),
            record("openai", cost=None, success=False, latency_ms=30000.0),  # never billed
            record("openai", cost=Decimal("5"), at=NOON - timedelta(days=7)),  # out of period
        ):
            await rows.add(r)
        stats = await rows.stats(DAY, now=NOON)
        analytics = await rows.analytics(DAY, now=NOON)
        savings = await rows.savings(DAY, "openai:gpt-4o-mini", now=NOON)
        week = await rows.stats(timedelta(days=8), now=NOON)
        before = await rows.stats(DAY, now=NOON - timedelta(days=3))

    # Local, cloud and failed are separate counts: each failure is counted once, as failed.
    assert (stats.total_requests, stats.local_requests, stats.cloud_requests) == (5, 2, 1)
    assert (stats.fallback_requests, stats.failed_requests) == (1, 2)
    assert stats.total_cloud_cost == Decimal("0.01")
    assert stats.estimated_local_savings == Decimal("0.0045")
    assert stats.average_local_latency == timedelta(seconds=2)  # failures left out
    assert stats.average_cloud_latency == timedelta(milliseconds=500)
    assert stats.requests_by_model == {"smollm2": 2, "qwen": 1, "gpt-4o-mini": 2}
    assert week.total_requests == 6 and week.total_cloud_cost == Decimal("5.01")
    assert before.total_requests == 0

    assert analytics.total_prompt_tokens == 90
    assert analytics.total_completion_tokens == 210
    assert analytics.requests_by_provider == {"local": 3, "openai": 2}
    assert analytics.tokens_by_provider == {"local": 200, "openai": 100}
    assert analytics.cost_by_provider == {"local": Decimal("0.0015"), "openai": Decimal("0.01")}
    assert analytics.requests_by_task == {"chat": 4, "summarization": 1}
    assert analytics.requests_by_source == {"api": 4, "tui": 1}
    assert analytics.average_latency_ms_by_provider == {"local": 2000.0, "openai": 500.0}

    assert savings.local_requests == 2  # the failed local request saved nothing
    assert savings.local_tokens_generated == 140
    assert savings.estimated_cloud_cost_avoided == Decimal("0.006")
    assert savings.actual_cloud_cost == Decimal("0.01")
    assert savings.estimated_local_electricity_cost == Decimal("0.0015")
    assert savings.net_savings == Decimal("0.0045")
    assert savings.savings_percent == 75.0
    assert savings.unpriced_cloud_requests == 0  # the failed one was never billed
    assert savings.compared_to_cloud_model == "openai:gpt-4o-mini"
    by_model = {m.model_id: m for m in savings.by_model}
    assert by_model["smollm2"].requests == 2
    assert by_model["smollm2"].tokens_generated == 140
    assert by_model["smollm2"].estimated_savings == Decimal("0.0045")
    assert "qwen" not in by_model  # its only request failed


async def test_empty_period_reports_zero_without_dividing(tmp_path: Path) -> None:
    async with open_rows(tmp_path) as rows:
        savings = await rows.savings(DAY, "openai:gpt-4o-mini", now=NOON)
        stats = await rows.stats(DAY, now=NOON)
    assert savings.net_savings == Decimal(0)
    assert savings.savings_percent is None  # a share of nothing is no number
    assert stats.average_local_latency == timedelta(0)


async def test_without_a_reference_price_savings_stay_unknown_all_the_way_down(
    tmp_path: Path,
) -> None:
    local = record("local", "smollm2", local=True, avoided=None, electricity=Decimal("0.0000001"))
    async with open_rows(tmp_path) as rows:
        await rows.add(local)
        unreferenced = await rows.savings(DAY, None, now=NOON)
        unpriced = await rows.savings(DAY, "openai:gpt-4o-mini", now=NOON)
        stats = await rows.stats(DAY, now=NOON)
    for report in (unreferenced, unpriced):
        assert report.estimated_cloud_cost_avoided is None
        assert report.net_savings is None and report.savings_percent is None
        assert [m.estimated_savings for m in report.by_model] == [None]
        assert report.estimated_local_electricity_cost == Decimal("0.0000001")  # still known
    assert stats.estimated_local_savings is None  # not "-$0.0000001"


async def test_failed_requests_are_neither_local_nor_cloud(tmp_path: Path) -> None:
    async with open_rows(tmp_path) as rows:
        await rows.add(record("local", "smollm2", local=True, avoided=None))
        for _ in range(3):  # refused: no provider would take them
            await rows.add(record("none", "", cost=None, success=False, latency_ms=1.0))
        stats = await rows.stats(DAY, now=NOON)
        analytics = await rows.analytics(DAY, now=NOON)
    assert (stats.local_requests, stats.cloud_requests, stats.failed_requests) == (1, 0, 3)
    assert stats.total_requests == 4
    assert "none" not in analytics.requests_by_provider
    assert "" not in stats.requests_by_model
    assert analytics.requests_by_task == {"chat": 4}

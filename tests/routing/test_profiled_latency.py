"""A local model the profiler measured (a benchmark, earlier requests) has a known latency in
the route decision, read from the store, instead of "unknown"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from lexitui.domain.language_model import LanguageModelRequest, Message
from lexitui.domain.routing import OptimizationGoal
from lexitui.routing.optimizer import CostPerformanceOptimizer
from lexitui.routing.prices import PriceBook
from lexitui.routing.settings import CostSettings
from lexitui.store import Store
from lexitui.store.performance import PerformanceRows
from lexitui.store.routed_requests import RoutedRequestRows
from tests.routing.cost_support import TestProvider

ASK = LanguageModelRequest(messages=(Message("user", "Say hello."),), max_tokens=100)


async def test_the_profilers_measured_speed_gives_the_local_latency(tmp_path: Path) -> None:
    store = Store(tmp_path / "lexitui.sqlite")
    await store.open()
    try:
        profiles = PerformanceRows(store)
        await profiles.record_bench("smollm2", 50.0, 200.0, datetime.now(UTC))
        providers = [TestProvider("local", "smollm2", local=True)]
        optimizer = CostPerformanceOptimizer(
            lambda: providers,
            PriceBook(CostSettings()),
            RoutedRequestRows(store),
            lambda _id: None,
            lambda _id: 0.5,
            lambda _model: None,  # the engine has served nothing since it was loaded
            profiles=profiles.all,
        )
        before = optimizer.expected_latency("local", "smollm2", 100)
        await optimizer.refresh_profiles()
        after = optimizer.expected_latency("local", "smollm2", 100)
        other = optimizer.expected_latency("local", "qwen", 100)
        picked = await optimizer.get_recommendation(ASK, OptimizationGoal.MINIMIZE_LATENCY)
    finally:
        await store.close()
    assert before.expected_latency is None
    # 200 ms to the first token, then 100 tokens at 50 tokens/s.
    assert after.expected_latency == timedelta(seconds=2.2)
    assert after.measured and after.tokens_per_second == 50.0
    assert other.expected_latency is None  # another model's speed is never borrowed
    assert "latency ~2.20 s (measured)" in picked.rationale

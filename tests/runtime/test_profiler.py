"""The performance profiler on the real engine: running figures per model, the fixed benchmark,
and rows that outlive a restart."""

from __future__ import annotations

import pytest

from lexitui.config import Paths
from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.domain.inference import LocalGenerationRequest
from lexitui.runtime.profiler import BENCH_PROMPTS, BenchReport
from lexitui.services import Services
from lexitui.storage.starter import STARTER_FILE, STARTER_ID

pytestmark = pytest.mark.engine

SMALL = ModelLoadOptions(context_length=1024, threads=1)


def ask(text: str, max_tokens: int = 16) -> LocalGenerationRequest:
    return LocalGenerationRequest(
        messages=(LocalChatMessage(ChatRole.USER, text),),
        max_tokens=max_tokens,
        temperature=0,
        seed=1,
    )


async def test_two_generations_update_the_models_row(services: Services) -> None:
    assert await services.profiler.stats(STARTER_ID) is None
    await services.runtime.load(STARTER_ID, SMALL)
    first = await services.runtime.generate(ask("Say hi"))
    second = await services.runtime.generate(ask("Name a colour.", 24))
    await services.profiler.stop()  # waits for the rows to be written

    stats = await services.profiler.stats(STARTER_ID)
    assert stats is not None
    a, b = first.metrics, second.metrics
    assert stats.requests == 2
    assert stats.tokens == first.usage.completion_tokens + second.usage.completion_tokens
    assert stats.average_tokens_per_second == pytest.approx(
        (a.tokens_per_second + b.tokens_per_second) / 2
    )
    assert stats.peak_tokens_per_second == pytest.approx(
        max(a.tokens_per_second, b.tokens_per_second)
    )
    assert stats.average_ttft_ms == pytest.approx((a.ttft_ms + b.ttft_ms) / 2)
    assert stats.bench_tokens_per_second is None and stats.bench_at is None
    assert [s.model_id for s in await services.profiler.all_stats()] == [STARTER_ID]


async def test_bench_reports_medians_and_stores_them(services: Services) -> None:
    loaded = await services.runtime.load(STARTER_ID, SMALL)
    report = await services.profiler.bench(loaded.id, max_tokens=12)

    assert isinstance(report, BenchReport) and report.model_id == STARTER_ID
    assert [r.prompt for r in report.runs] == list(BENCH_PROMPTS)
    assert all(0 < r.completion_tokens <= 12 and r.tokens_per_second > 0 for r in report.runs)
    assert report.tokens_per_second > 0 and report.ttft_ms > 0
    assert report.prompt_eval_tokens_per_second > 0
    speeds = sorted(r.tokens_per_second for r in report.runs)
    assert speeds[0] <= report.tokens_per_second <= speeds[-1]
    assert "ctx 1024" in report.load_options and "RAM" in report.machine
    assert "median" in report.as_text() and report.as_json()["runs"][0]["prompt"]

    stats = await services.profiler.stats(STARTER_ID)
    assert stats is not None and stats.bench_at is not None
    assert stats.bench_tokens_per_second == pytest.approx(report.tokens_per_second)
    assert stats.bench_ttft_ms == pytest.approx(report.ttft_ms)
    # The benchmark is what Discover shows for the same file.
    [speed] = await services.profiler.measured_speeds()
    assert (speed.file_name, speed.repository, speed.benchmarked) == (STARTER_FILE, None, True)
    assert speed.tokens_per_second == pytest.approx(report.tokens_per_second)


async def test_stats_survive_a_restart(paths: Paths) -> None:
    first = Services.build(paths)
    await first.start()
    try:
        await first.runtime.load(STARTER_ID, SMALL)
        result = await first.runtime.generate(ask("Say hi"))
    finally:
        await first.stop()

    again = Services.build(paths)
    await again.start()
    try:
        stats = await again.profiler.stats(STARTER_ID)
    finally:
        await again.stop()
    assert stats is not None and stats.requests == 1
    assert stats.tokens == result.usage.completion_tokens
    assert stats.average_tokens_per_second == pytest.approx(result.metrics.tokens_per_second)

"""The Runtime screen follows the store and the resource sampler, not a timer: the profile line
shows an answer's figures once the profiler's write has committed, however slow that write, and
the table (its RAM column) is read again on the sampler's samples, and only then."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest

from lexitui.storage.starter import STARTER_ID
from lexitui.store.performance import PerformanceRows
from lexitui.ui.app import LexituiApp
from tests.ui.store_watching import until_settled, until_the_watcher_looked
from tests.ui.test_runtime_screen import SMALL, deterministic, open_runtime, send, text
from tests.waiting import until

SLOW_WRITE_S = 1.0  # a disk busy with something else: far longer than any fixed wait was


@pytest.mark.engine
async def test_the_profile_line_shows_an_answer_once_a_slow_write_lands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = PerformanceRows.record_generation

    async def slow_record(
        rows: PerformanceRows,
        model_id: str,
        tokens: int,
        tokens_per_second: float,
        ttft_ms: float,
        at: datetime,
    ) -> None:
        await asyncio.sleep(SLOW_WRITE_S)
        await record(rows, model_id, tokens, tokens_per_second, ttft_ms, at)

    monkeypatch.setattr(PerformanceRows, "record_generation", slow_record)
    app = LexituiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_runtime(app, pilot)
        screen.load_model(STARTER_ID, SMALL)
        await until(lambda: app.services.runtime.active_model is not None, 60)
        deterministic(screen)
        await send(screen, pilot, "Name one colour.")
        await until(lambda: "1 request " in text(screen, "#runtime-profile"), 10)


async def test_the_table_is_read_again_on_a_resource_sample_and_not_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = LexituiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_runtime(app, pilot)
        await until_settled(app)
        shown: list[int] = []
        show = screen.table.show

        def counted(*args: Any, **kwargs: Any) -> None:
            shown.append(1)
            show(*args, **kwargs)

        monkeypatch.setattr(screen.table, "show", counted)
        # Nothing loaded: the sampler sleeps, and nothing reads the table however long it waits.
        await until_the_watcher_looked(app, monkeypatch)
        assert shown == []
        # A sample (the sampler takes one a second while a model is loaded) is read at once.
        await app.services.resources.sample_once()
        await until(lambda: bool(shown))

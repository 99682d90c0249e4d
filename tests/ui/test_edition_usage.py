"""A counted limit and its use beside the action it counts: the Hub searches of the day in
Discover, the loaded-model limit beside Load in the Runtime load dialog; nothing where no limit
applies."""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from textual.widgets import DataTable, Static

from lexitui.config import Paths
from lexitui.discovery.search_quota import HUB_SEARCHES, utc_today
from lexitui.storage.starter import STARTER_ID
from lexitui.store.edition_counters import EditionCounters
from lexitui.ui.discover.screen import DiscoverScreen
from lexitui.ui.runtime.load_dialog import LoadModelDialog
from lexitui.ui.runtime.screen import RuntimeScreen
from lexitui.ui.widgets.limit_pill import LimitPill
from tests.fakes.hub_server import FakeHub
from tests.ui.edition_machine import (  # noqa: F401 (fixtures)
    authority_key,
    edition_pill,
    footer_descriptions,
    install,
    issue,
    laptop_app,
    managed,
    site_dir,
    text_of,
    writerpro,
)
from tests.waiting import until


@pytest.mark.usefixtures("writerpro")
async def test_discover_counts_the_hub_searches_of_the_day(
    hub: FakeHub, paths: Paths, tmp_path: Path
) -> None:
    app = laptop_app(paths, tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.services_ready.wait()
        await pilot.press("4")
        await until(lambda: isinstance(app.screen, DiscoverScreen))
        usage = app.screen.query_one("#discover-usage", LimitPill)
        # Opening Discover lists the trending models, which asks for nothing: not counted.
        await until(lambda: text_of(usage) == "Hub searches 0/10 today")
        assert usage.display
        await pilot.press("slash", *"qwen", "enter")
        await until(lambda: text_of(usage) == "Hub searches 1/10 today")
        assert await app.services.discovery.quota.used_today() == 1  # type: ignore[union-attr]


@pytest.mark.usefixtures("writerpro")
async def test_discover_says_the_daily_limit_is_spent(
    hub: FakeHub, paths: Paths, tmp_path: Path
) -> None:
    app = laptop_app(paths, tmp_path)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await app.services_ready.wait()
        counters = EditionCounters(app.services.store)
        for _ in range(10):
            await counters.add(HUB_SEARCHES, utc_today())
        await pilot.press("4")
        await until(lambda: isinstance(app.screen, DiscoverScreen))
        usage = app.screen.query_one("#discover-usage", LimitPill)
        status = app.screen.query_one("#discover-status", Static)
        await until(lambda: text_of(usage) == "Hub searches 10/10 today")
        assert usage.has_class("-spent")
        await until(lambda: "Trending" in text_of(status))  # the front page is still shown
        await pilot.press("slash", *"qwen", "enter")
        await until(lambda: "Teams has no limit" in text_of(status))
        assert text_of(status) == (
            "WriterPro: 10 Hugging Face searches a day (10 used today, UTC); Teams has no limit"
        )
        assert not app._notifications


async def test_unmanaged_discover_shows_no_usage(
    hub: FakeHub, paths: Paths, tmp_path: Path
) -> None:
    app = laptop_app(paths, tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.services_ready.wait()
        await pilot.press("4")
        screen = app.screen
        assert isinstance(screen, DiscoverScreen)
        status = screen.query_one("#discover-status", Static)
        await until(lambda: "Trending" in text_of(status))
        assert not screen.query_one("#discover-usage", LimitPill).display


@pytest.mark.engine
@pytest.mark.usefixtures("writerpro")
async def test_the_load_dialog_says_the_loaded_model_limit_and_its_use(
    paths: Paths, tmp_path: Path
) -> None:
    app = laptop_app(paths, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.services_ready.wait()
        await pilot.press("7")
        await until(lambda: isinstance(app.screen, RuntimeScreen))
        await pilot.press("L")
        await until(lambda: isinstance(app.screen, LoadModelDialog))
        limit = app.screen.query_one("#load-limit", LimitPill)
        assert text_of(limit) == "WriterPro: 1 loaded model · 0 used"
        await pilot.press("escape")
        await until(lambda: isinstance(app.screen, RuntimeScreen))
        await app.services.runtime.load(STARTER_ID)
        await pilot.press("L")
        await until(lambda: isinstance(app.screen, LoadModelDialog))
        limit = app.screen.query_one("#load-limit", LimitPill)
        assert text_of(limit) == f"WriterPro: 1 loaded model · in use: {STARTER_ID}"
        assert limit.has_class("-spent")


@pytest.mark.usefixtures("writerpro")
async def test_snapshot_discover_with_the_searches_of_the_day(
    hub: FakeHub, paths: Paths, tmp_path: Path, svg_snapshot: SnapshotAssertion
) -> None:
    app = laptop_app(paths, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.services_ready.wait()
        await pilot.press("4")
        await until(lambda: isinstance(app.screen, DiscoverScreen))
        usage = app.screen.query_one("#discover-usage", LimitPill)
        await until(lambda: text_of(usage) == "Hub searches 0/10 today")
        results = app.screen.query_one("#discover-results", DataTable)
        await until(lambda: results.row_count > 0)
        # The starter's repo: its details read from the fake Hub name no port of the run.
        ids = [str(results.get_row_at(i)[1]) for i in range(results.row_count)]
        results.move_cursor(row=next(i for i, m in enumerate(ids) if "SmolLM2" in m))
        variants = app.screen.query_one("#discover-variants", DataTable)
        shown = lambda: [str(variants.get_row_at(i)[0]) for i in range(variants.row_count)]  # noqa: E731
        await until(lambda: "Q4_1" in shown(), seconds=20)
        await pilot.pause(0.2)
        assert svg_snapshot == app.export_screenshot()

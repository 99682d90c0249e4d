"""The dashboard hears the store: a request that ``lexitui serve`` served in another process
shows within a second of its commit, and while nothing is written the routing panels read
nothing at all."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from textual.widgets import DataTable, Static

from lexitui.config import Paths
from lexitui.store import Store
from lexitui.store.routed_requests import RoutedRequestRows
from lexitui.ui.app import LexituiApp
from lexitui.ui.dashboard.screen import DashboardScreen
from tests.fakes.cloud_common import TEST_KEY
from tests.fakes.cloud_openai import FakeOpenAI
from tests.gateway.serve_process import running_serve
from tests.home_config import write_test_config
from tests.ui.routing_fixtures import cloud_record
from tests.ui.store_watching import count_view_reads, until_settled, until_the_watcher_looked
from tests.waiting import until

SHOWN_WITHIN_S = 1.0


def text(screen: DashboardScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def live_rows(screen: DashboardScreen) -> list[str]:
    table = screen.query_one("#dash-requests", DataTable)
    return [str(key.value) for key in table.rows]


def routed_ids(database: Path) -> list[str]:
    """What is committed in ``routed_requests`` now, read as any other process would."""
    with sqlite3.connect(database) as conn:
        return [row[0] for row in conn.execute("SELECT request_id FROM routed_requests")]


async def until_committed(database: Path, count: int) -> float:
    """The moment the ``count``-th request is committed (by whoever wrote it)."""
    await until(lambda: len(routed_ids(database)) >= count, 30)
    return time.monotonic()


@pytest.fixture
async def cloud_gateway(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """``lexitui serve`` in its own process, no local model, a cloud provider behind it."""
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    async with FakeOpenAI() as cloud:
        paths.config_file.parent.mkdir(parents=True, exist_ok=True)
        write_test_config(
            paths.config_file,
            f'[providers.openai]\nkind = "openai"\nbase_url = "{cloud.base_url}"\n'
            'model = "gpt-4o-mini"\n',
        )
        with running_serve() as (url, _process):
            yield url


async def dashboard_read(app: LexituiApp) -> DashboardScreen:
    """The dashboard, once its routing panels have read the store the first time."""
    await app.services_ready.wait()
    screen = app.screen
    assert isinstance(screen, DashboardScreen)
    await until(lambda: "Reading" not in text(screen, "#dash-mix"), 30)
    return screen


async def test_a_request_served_by_another_process_shows_within_a_second(
    cloud_gateway: str, paths: Paths
) -> None:
    app = LexituiApp()
    async with app.run_test(size=(160, 48)):
        screen = await dashboard_read(app)
        async with httpx.AsyncClient(base_url=cloud_gateway, timeout=30) as client:
            for count in (1, 2):
                answer = await client.post(
                    "/chat/completions",
                    json={"model": "auto", "messages": [{"role": "user", "content": "Hi"}]},
                )
                assert answer.status_code == 200, answer.text
                committed = await until_committed(paths.database, count)
                newest = routed_ids(paths.database)
                await until(
                    lambda newest=newest: sorted(live_rows(screen)) == sorted(newest),
                    SHOWN_WITHIN_S,
                )
                assert time.monotonic() - committed <= SHOWN_WITHIN_S
        assert "Requests: 2" in text(screen, "#dash-mix")


async def test_an_idle_dashboard_reads_nothing_until_a_request_is_written(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = LexituiApp()
    async with app.run_test(size=(160, 48)):
        screen = await dashboard_read(app)
        await until_settled(app)
        reads = count_view_reads(monkeypatch)
        await until_the_watcher_looked(app, monkeypatch)  # no request written meanwhile
        assert reads == []

        other = Store(paths.database)  # another connection, as another process has
        await other.open()
        try:
            await RoutedRequestRows(other).add(cloud_record(datetime.now(UTC), cost="0.01"))
        finally:
            await other.close()
        await until(lambda: len(live_rows(screen)) == 1)
        assert len(reads) == 1
        assert "Requests: 1" in text(screen, "#dash-mix")

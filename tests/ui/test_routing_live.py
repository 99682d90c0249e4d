"""The Routing area reads the store when it changed, never on a timer: an idle screen reads
nothing, and a request another connection writes is in the decision log after one read."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from lexitui.config import Paths
from lexitui.store import Store
from lexitui.store.routed_requests import RoutedRequestRows
from lexitui.ui.app import LexituiApp
from tests.ui.routing_fixtures import cloud_record, configure_cloud
from tests.ui.store_watching import count_view_reads, until_settled, until_the_watcher_looked
from tests.ui.test_routing_screen import open_routing, rows
from tests.waiting import until


async def test_an_idle_routing_screen_reads_nothing_until_a_request_is_written(
    lexitui_home: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_cloud(lexitui_home, monkeypatch)
    app = LexituiApp()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_routing(app, pilot)
        await until_settled(app)
        reads = count_view_reads(monkeypatch)
        await until_the_watcher_looked(app, monkeypatch)
        assert reads == []

        other = Store(paths.database)  # another connection, as ``lexitui serve`` has
        await other.open()
        try:
            await RoutedRequestRows(other).add(cloud_record(datetime.now(UTC), cost="0.25"))
        finally:
            await other.close()
        await until(lambda: len(rows(screen, "#routing-log")) == 1)
        assert len(reads) == 1
        assert "$0.25" in rows(screen, "#routing-log")[0]

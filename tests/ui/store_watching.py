"""Counting what screens read while the store's change watcher runs: a screen that follows the
store reads nothing while nothing is written, whatever time passes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lexitui.ui.app import LexituiApp
from lexitui.ui.routing import data as routing_data
from lexitui.ui.routing import screen as routing_screen
from lexitui.ui.routing.data import RoutingView
from tests.waiting import until

# A dozen looks at the change marker: three seconds, longer than any refresh period a screen
# ever had.
QUIET_CHECKS = 12


def count_view_reads(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """Every read of the routing view (store queries for the Routing area and the dashboard)."""
    reads: list[datetime] = []
    read_view = routing_data.read_view

    async def counted(*args: object, **kwargs: object) -> RoutingView:
        reads.append(datetime.now(UTC))
        return await read_view(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(routing_data, "read_view", counted)
    monkeypatch.setattr(routing_screen, "read_view", counted)  # imported there by name
    return reads


async def until_settled(app: LexituiApp) -> None:
    """Return once the screen's own reads (its first showing may start them twice) are done."""
    await until(lambda: all(w.is_finished for w in app.workers if w.node is app.screen))


async def until_the_watcher_looked(
    app: LexituiApp, monkeypatch: pytest.MonkeyPatch, times: int = QUIET_CHECKS
) -> None:
    """Return once the store's change watcher has read the change marker ``times`` more."""
    store = app.services.store
    checks: list[int] = []
    versions = store.table_versions

    async def counted_versions() -> dict[str, int]:
        checks.append(1)
        return await versions()

    monkeypatch.setattr(store, "table_versions", counted_versions)
    await until(lambda: len(checks) >= times)
    monkeypatch.setattr(store, "table_versions", versions)

"""Routed requests whose provider, model, reason and cloud error carry hostile text are shown as
text on the Routing screen's decision log and the Dashboard's live requests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.widgets import DataTable

from lexitui.ui.app import LexituiApp
from lexitui.ui.routing.screen import RoutingScreen
from tests.ui.hostile_text import assert_shown_as_text, assert_terminal_safe, hostile
from tests.ui.routing_fixtures import cloud_record, configure_cloud
from tests.waiting import until


async def test_routed_requests_are_shown_as_text(
    lexitui_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_cloud(lexitui_home, monkeypatch)
    app = LexituiApp()
    async with app.run_test(size=(220, 50)) as pilot:
        await app.services_ready.wait()
        rows = app.services.routing.recorder.rows
        now = datetime.now(UTC)
        answered = cloud_record(now - timedelta(seconds=2))
        await rows.add(replace(answered, model_id=hostile("MODEL"), reason=hostile("REASON")))
        failed = cloud_record(now - timedelta(seconds=1), success=False)
        await rows.add(
            replace(failed, provider_id=hostile("PROVIDER"), error=hostile("CLOUDERROR"))
        )

        # The Dashboard's live requests name the provider and the model.
        live = app.screen.query_one("#dash-requests", DataTable)
        await until(lambda: live.row_count == 2)
        await pilot.pause()
        assert_shown_as_text(app, "MODEL", "PROVIDER")
        assert_terminal_safe(app)

        await pilot.press("8")
        await until(lambda: isinstance(app.screen, RoutingScreen))
        screen = app.screen
        assert isinstance(screen, RoutingScreen)
        log = screen.query_one("#routing-log", DataTable)
        await until(lambda: log.row_count == 2)
        await pilot.pause()
        assert_shown_as_text(app, "MODEL", "REASON", "CLOUDERROR", "PROVIDER")
        assert_terminal_safe(app)

"""The TUI's routing figures follow the edition as ``lexitui usage`` does: below Enterprise the
decision log, the mix and the savings are not shown, and the screen says why instead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lexitui.ui.app import LexituiApp
from tests.ui.edition_machine import (  # noqa: F401 (fixtures)
    authority_key,
    install,
    issue,
    managed,
    site_dir,
    text_of,
    writerpro,
)
from tests.ui.routing_fixtures import cloud_record, configure_cloud, local_record
from tests.ui.test_routing_screen import open_routing, rows, text
from tests.waiting import until


async def test_writerpro_sees_why_the_log_and_savings_are_not_shown(
    lexitui_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    writerpro: None,  # noqa: F811
) -> None:
    configure_cloud(lexitui_home, monkeypatch, daily=1.0)
    app = LexituiApp()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_routing(app, pilot)
        service = app.services.routing
        now = datetime.now(UTC)
        await service.recorder.rows.add(local_record(now - timedelta(seconds=5)))
        await service.recorder.rows.add(cloud_record(now, cost="0.25"))
        screen.reload()
        await until(
            lambda: "detailed analytics needs Enterprise" in text(screen, "#routing-log-title")
        )
        assert rows(screen, "#routing-log") == []

        await pilot.press("1")  # the dashboard's mix and savings panels say the same
        await until(lambda: bool(app.screen.query("#dash-mix")))
        mix = app.screen.query_one("#dash-mix")
        savings = app.screen.query_one("#dash-savings")
        await until(lambda: "detailed analytics needs Enterprise" in text_of(mix))  # type: ignore[arg-type]
        await until(lambda: "cost optimisation needs Enterprise" in text_of(savings))  # type: ignore[arg-type]

"""The dashboard's Local LLM panels: savings worked out from recorded requests, the routing mix,
live requests, budgets, and what they say before anything was routed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from lexitui.domain.resources import InferenceResourceUsage
from lexitui.routing.local_provider import LocalProviderStatus
from lexitui.ui.app import LexituiApp
from lexitui.ui.dashboard.screen import DashboardScreen
from lexitui.ui.routing.format import local_text
from tests.ui.routing_fixtures import cloud_record, configure_cloud, local_record
from tests.waiting import until


def text(screen: DashboardScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def loaded(screen: DashboardScreen) -> bool:
    return "Reading" not in text(screen, "#dash-mix") + text(screen, "#dash-local")


async def test_savings_mix_and_live_requests_come_from_the_records(
    lexitui_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_cloud(lexitui_home, monkeypatch, daily=1.0)
    app = LexituiApp()
    async with app.run_test(size=(160, 48)):
        await app.services_ready.wait()
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await until(lambda: loaded(screen))
        service = app.services.routing
        now = datetime.now(UTC)
        records = [
            local_record(now - timedelta(minutes=3), avoided="0.02", electricity="0.005"),
            cloud_record(now - timedelta(minutes=2), cost="0.03"),
            local_record(now - timedelta(minutes=1), avoided="0.02", electricity="0.005"),
            local_record(now - timedelta(days=3), avoided="0.01", electricity="0.001"),
        ]
        for record in records:
            await service.recorder.rows.add(record)
        service.records.on_next(records[-1])  # this process's request: read at once
        await until(lambda: "Requests: 3" in text(screen, "#dash-mix"), 5)

        mix = text(screen, "#dash-mix")  # the last 24 hours only
        assert "Local 2 · Cloud 1" in mix and "Fallback 1 · Failed 0" in mix
        savings = text(screen, "#dash-savings")  # the last 7 days: the three-day-old one too
        assert "vs openai:gpt-4o-mini" in savings
        assert "Cloud cost avoided: $0.05" in savings
        assert "Actual cloud cost:  $0.03" in savings
        assert "Electricity:        $0.011" in savings
        assert "Net saved:          $0.039 (78%)" in savings
        assert "$0.03 / $1.00" in text(screen, "#dash-budgets")

        table = screen.query_one("#dash-requests", DataTable)
        assert table.display and table.row_count == 4
        newest = " ".join(str(c) for c in table.get_row_at(0))
        assert "local smollm2-135m-instruct-q4_1 120 812 local, saved $0.02" in newest
        assert "not ready" in text(screen, "#dash-local")
        assert "Loaded: none" in text(screen, "#dash-local")


async def test_before_any_request_the_panels_say_what_to_do() -> None:
    app = LexituiApp()  # no cloud provider: no reference price to compare local requests to
    async with app.run_test(size=(80, 24)) as pilot:
        await app.services_ready.wait()
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await until(lambda: loaded(screen))
        await pilot.pause()
        assert "No requests in the last 24 hours" in text(screen, "#dash-mix")
        savings = text(screen, "#dash-savings")
        assert "No reference price" in savings and "$" in savings.split("\n")[-1]
        assert "run `lexitui serve` or `lexitui route`" in text(screen, "#dash-live-title")
        assert not screen.query_one("#dash-requests", DataTable).display
        assert "spent, no limit" in text(screen, "#dash-budgets")
        # No model loaded: the RAM and CPU figures are said to be the machine's.
        await until(lambda: "RAM" in text(screen, "#dash-local"))
        assert "Machine: RAM" in text(screen, "#dash-local")


def test_local_llm_tells_the_engines_use_from_the_machines() -> None:
    gib = 1024**3
    machine = InferenceResourceUsage(
        system_ram_bytes=16 * gib, system_ram_used_bytes=8 * gib, cpu_usage_percent=50
    )
    idle = local_text(LocalProviderStatus(is_ready=False, resource_usage=machine))
    assert "Machine: RAM 8.0/16.0 GiB · CPU 50%" in idle and "Engines" not in idle
    serving = replace(machine, models_ram_bytes=2 * gib, active_models=1)
    busy = local_text(LocalProviderStatus(is_ready=True, resource_usage=serving))
    assert "Engines: RAM 2.0 GiB" in busy and "Machine: RAM 8.0/16.0 GiB" in busy


@pytest.mark.engine
async def test_a_loaded_model_makes_the_local_llm_ready() -> None:
    from lexitui.domain.backends import ModelLoadOptions
    from lexitui.storage.starter import STARTER_ID

    app = LexituiApp()
    async with app.run_test(size=(160, 48)):
        await app.services_ready.wait()
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await app.services.runtime.load(
            STARTER_ID, ModelLoadOptions(context_length=1024, threads=1)
        )
        await until(lambda: "Active:" in text(screen, "#dash-local"), 30)
        local = text(screen, "#dash-local")
        assert "not ready" not in local
        assert f"Active: {STARTER_ID}" in local and f"Loaded: {STARTER_ID}" in local
        assert "RAM " in local and "CPU " in local


async def test_a_read_that_ends_after_the_panels_are_gone_is_dropped() -> None:
    # Quitting takes the dashboard's widgets down while a routing read may still be awaited;
    # its answer then has nowhere to go and must not take the app down with it.
    app = LexituiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.services_ready.wait()
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await until(lambda: loaded(screen))
        await screen.query_one("#dash-llm").remove()
        worker = screen.refresh_routing()
        await worker.wait()
        await pilot.pause()
        assert app.is_running and worker.error is None

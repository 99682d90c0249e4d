"""Every area's screen, rendered at 80x24 and 120x40 and compared with the approved SVG.

The Routing area and the dashboard's Local LLM panels are shot at 80x24 and 160x48 over fixed
records, with the clock stopped (``routing_data.now``) so the periods and times come out the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from textual._doc import take_svg_screenshot
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from lexitui.areas import AREAS
from lexitui.storage.starter import STARTER_ID
from lexitui.ui.app import LexituiApp
from lexitui.ui.routing import data as routing_data
from lexitui.ui.routing import format as routing_format
from lexitui.ui.routing.screen import RoutingScreen
from lexitui.ui.runtime import format as runtime_format
from lexitui.ui.runtime.screen import RuntimeScreen
from tests.home_config import closed_address
from tests.ui.routing_fixtures import NOON, configure_cloud, fixed_records
from tests.ui.test_dashboard import recorded_services, wait_for_machine
from tests.waiting import until

SIZES = [(80, 24), (120, 40)]
ROUTING_SIZES = [(80, 24), (160, 48)]
# Areas whose screens show live readings have their own tests with recorded hardware.
STATIC_AREAS = [
    a.mode
    for a in AREAS
    if a.mode not in ("dashboard", "runtime", "hardware", "discover", "models", "routing")
]


def shoot(size: tuple[int, int], run_before: object) -> str:
    return take_svg_screenshot(
        app=LexituiApp(),
        terminal_size=size,
        run_before=run_before,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("mode", STATIC_AREAS)
def test_area_screens(
    mode: str,
    size: tuple[int, int],
    svg_snapshot: SnapshotAssertion,
) -> None:
    async def go(pilot: Pilot[None]) -> None:
        await pilot.press(next(a.key for a in AREAS if a.mode == mode))
        await pilot.pause()

    assert svg_snapshot == same_port_every_run(shoot(size, go))


def same_port_every_run(svg: str) -> str:
    """Backends: the built-ins look at the test home's closed port, a new one on every run; the
    picture shows it as ``NNNNN`` (the same width: ephemeral ports have five digits)."""
    address = closed_address()
    host, _, port = address.rpartition(":")
    assert len(port) == 5, address
    return svg.replace(address, f"{host}:NNNNN")


@pytest.mark.engine
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_runtime_with_the_starter_loaded(
    size: tuple[int, int], svg_snapshot: SnapshotAssertion, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Speeds, times and resident memory differ on every run; the picture must not.
    monkeypatch.setattr(runtime_format, "measured", lambda _text: "(varies)")

    async def go(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, LexituiApp)
        await app.services_ready.wait()
        await app.open_chat(STARTER_ID)
        screen = app.screen
        assert isinstance(screen, RuntimeScreen)
        state = screen.query_one("#runtime-state")
        # Wait for what the user sees, not the service: the line updates after the load.
        for _ in range(400):
            if "active model" in str(state.render()) and screen.table.row_count:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.2)

    assert svg_snapshot == shoot(size, go)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help_lists_every_binding_with_its_id(
    size: tuple[int, int], svg_snapshot: SnapshotAssertion
) -> None:
    async def go(pilot: Pilot[None]) -> None:
        # Over an area with no live readings, so the picture is the same on every machine; the
        # help opens at that area's keys.
        await pilot.press("5", "question_mark")
        await pilot.pause()

    assert svg_snapshot == shoot(size, go)


def test_the_linux_console_draws_ascii_frames(
    monkeypatch: pytest.MonkeyPatch, svg_snapshot: SnapshotAssertion
) -> None:
    monkeypatch.setenv("TERM", "linux")

    async def go(pilot: Pilot[None]) -> None:
        await pilot.press("5", "question_mark")
        await pilot.pause()

    assert svg_snapshot == shoot((80, 24), go)


@pytest.fixture
def routed(lexitui_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A configured cloud provider, the clock stopped at NOON, machine-load figures held still."""
    configure_cloud(lexitui_home, monkeypatch)
    monkeypatch.setattr(routing_data, "now", lambda: NOON)
    monkeypatch.setattr(routing_format, "measured", lambda _text: "RAM and CPU (vary)")


async def add_fixed_records(app: LexituiApp) -> None:
    await app.services_ready.wait()
    for record in fixed_records():
        await app.services.routing.recorder.rows.add(record)


@pytest.mark.parametrize("size", ROUTING_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_routing_screen(
    size: tuple[int, int], routed: None, svg_snapshot: SnapshotAssertion
) -> None:
    async def go(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, LexituiApp)
        await add_fixed_records(app)
        await pilot.press("8")
        await until(lambda: isinstance(app.screen, RoutingScreen))
        screen = app.screen
        await until(lambda: screen.query_one("#routing-log", DataTable).row_count == 3)
        if size[0] >= 120:  # a dry run; its answer sits below the fold on a small terminal
            screen.query_one("#routing-try", Input).value = "Summarise this routing log"
            await pilot.press("p", "enter")
            decision = screen.query_one("#routing-decision", Static)
            await until(lambda: "Why:" in str(decision.render()))
            await pilot.press("escape")
        await pilot.pause(0.1)

    assert svg_snapshot == shoot(size, go)


@pytest.mark.parametrize("size", ROUTING_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard_with_routed_requests(
    size: tuple[int, int], routed: None, tmp_path: Path, svg_snapshot: SnapshotAssertion
) -> None:
    services = recorded_services(tmp_path, "nvml_8x_h100.json", "cpuinfo_intel_xeon_avx512.txt")

    async def go(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, LexituiApp)
        await add_fixed_records(app)
        await wait_for_machine(pilot)
        mix = app.screen.query_one("#dash-mix", Static)
        live = app.screen.query_one("#dash-requests", DataTable)
        # Both: a read that raced the inserts can count three and list two until the next poll.
        await until(lambda: "Requests: 3" in str(mix.render()) and live.row_count == 3, 5)
        await pilot.pause(0.1)

    shot = take_svg_screenshot(
        app=LexituiApp(services),
        terminal_size=size,
        run_before=go,
    )
    assert svg_snapshot == shot

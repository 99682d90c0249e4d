"""Every area's screen, rendered at 80x24 and 120x40 and compared with the approved SVG."""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion
from textual._doc import take_svg_screenshot
from textual.pilot import Pilot

from lexitui.app import LexituiApp
from lexitui.areas import AREAS
from lexitui.storage.starter import STARTER_ID
from lexitui.ui.screens import runtime_format
from lexitui.ui.screens.runtime import RuntimeScreen

SIZES = [(80, 24), (120, 40)]
# Areas whose screens show live readings have their own tests with recorded hardware.
STATIC_AREAS = [
    a.mode
    for a in AREAS
    if a.mode not in ("dashboard", "runtime", "hardware", "backends", "discover", "models")
]


def shoot(size: tuple[int, int], run_before: object) -> str:
    return take_svg_screenshot(
        app=LexituiApp(),
        terminal_size=size,
        run_before=run_before,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("mode", STATIC_AREAS)
def test_area_screens(mode: str, size: tuple[int, int], svg_snapshot: SnapshotAssertion) -> None:
    async def go(pilot: Pilot[None]) -> None:
        await pilot.press(next(a.key for a in AREAS if a.mode == mode))
        await pilot.pause()

    assert svg_snapshot == shoot(size, go)


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


def test_help_lists_every_binding_with_its_id(svg_snapshot: SnapshotAssertion) -> None:
    async def go(pilot: Pilot[None]) -> None:
        # Over an area with no live readings, so the picture is the same on every machine.
        await pilot.press("8", "question_mark")
        await pilot.pause()

    assert svg_snapshot == shoot((120, 40), go)

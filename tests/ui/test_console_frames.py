"""On the Linux console (TERM=linux) every frame is drawn in ASCII; elsewhere panels are round."""

from __future__ import annotations

import pytest
from textual.screen import Screen

from lexitui.areas import AREAS
from lexitui.ui.app import LexituiApp
from lexitui.ui.frames import ASCII_SAFE
from tests.waiting import until


def border_kinds(screen: Screen[object]) -> dict[str, set[str]]:
    """Each border kind used on the screen, with the widgets that use it."""
    kinds: dict[str, set[str]] = {}
    for widget in screen.query("*"):
        styles = widget.styles
        for edge in (styles.border_top, styles.border_right, styles.border_bottom):
            kinds.setdefault(edge[0], set()).add(type(widget).__name__)
        kinds.setdefault(styles.border_left[0], set()).add(type(widget).__name__)
    return kinds


async def test_the_linux_console_gets_ascii_frames_in_every_area(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TERM", "linux")
    app = LexituiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.services_ready.wait()
        for item in AREAS:
            await app.switch_mode(item.mode)
            await pilot.pause()
            kinds = border_kinds(app.screen)
            unsafe = {kind: users for kind, users in kinds.items() if kind not in ASCII_SAFE}
            assert not unsafe, (item.mode, unsafe)
        assert "ascii" in border_kinds(app.screen)
        await app.switch_mode("dashboard")
        await pilot.pause()
        await until(lambda: "ascii" in border_kinds(app.screen))


async def test_other_terminals_keep_the_rounded_panels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    app = LexituiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "round" in border_kinds(app.screen)

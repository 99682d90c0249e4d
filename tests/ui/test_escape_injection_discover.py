"""Hostile Hub text on Discover is shown as text: no control sequence reaches the terminal and
no markup from a model card is interpreted."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from lexitui.config import Paths
from lexitui.ui.app import LexituiApp
from lexitui.ui.discover.screen import DiscoverScreen
from tests.fakes.hub_repos_hostile import CARD_REPO
from tests.ui.hardware_machine import Machine, build_services
from tests.ui.hostile_hub import hostile_hub  # noqa: F401 (a fixture)
from tests.ui.hostile_text import (
    assert_shown_as_text,
    assert_terminal_safe,
)
from tests.waiting import until


def _app(paths: Paths, tmp_path: Path) -> LexituiApp:
    machine = Machine(ram_total_gib=16, ram_available_gib=12)
    return LexituiApp(build_services(paths, tmp_path / "root", "nvml_0_gpus.json", machine=machine))


@pytest.mark.usefixtures("hostile_hub")
async def test_hostile_repo_text_is_shown_as_text(paths: Paths, tmp_path: Path) -> None:
    app = _app(paths, tmp_path)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.press("4")
        screen = app.screen
        assert isinstance(screen, DiscoverScreen)
        results = screen.query_one("#discover-results", DataTable)
        await until(lambda: results.row_count > 2)
        await pilot.pause()
        # The listing: a hostile id, license and the facets built from them.
        assert_shown_as_text(app, "HUBID", "LICENSE")
        assert_terminal_safe(app)

        # The card: description, license, architecture, notes; the variants: file names.
        row = next(i for i, m in enumerate(screen.models) if m.id == CARD_REPO)
        results.move_cursor(row=row)
        variants = screen.query_one("#discover-variants", DataTable)
        await until(lambda: screen.details is not None and screen.details.model.id == CARD_REPO)
        await until(lambda: variants.row_count == 2)
        await pilot.pause()
        # File names with C0 controls are refused; the others become quant labels and ids.
        assert_shown_as_text(app, "DESCRIPTION", "LICENSE", "ARCH")
        assert_terminal_safe(app)
        card = str(screen.query_one("#discover-card", Static).render())
        assert "\\x1b]0;PWNED" in card  # the escape is visible, not dropped

        # A hostile id that the details refuse: the error names it as text.
        results.move_cursor(row=next(i for i, m in enumerate(screen.models) if "HUBID" in m.id))
        await until(lambda: "HUBID" in str(screen.query_one("#discover-card", Static).render()))
        await pilot.pause()
        assert_shown_as_text(app, "HUBID")
        assert_terminal_safe(app)

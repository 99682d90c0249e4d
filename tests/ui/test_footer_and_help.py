"""A new user's walk through every area: the footer always shows Help and Quit, and ``?`` opens
the help at the keys of the area the user is in."""

from __future__ import annotations

import pytest
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input
from textual.widgets._footer import FooterKey

from lexitui.areas import AREAS
from lexitui.ui.app import LexituiApp
from lexitui.ui.shell.help import HelpScreen
from tests.waiting import until


def visible_footer_entries(screen: Screen[object]) -> list[str]:
    """The descriptions shown whole in the footer, left of the command palette's key."""
    footer = screen.query_one(Footer)
    keys = list(footer.query(FooterKey))
    palette = [k for k in keys if k.has_class("-command-palette")]
    right = palette[0].region.x if palette else footer.region.right
    return [
        key.description
        for key in keys
        if not key.has_class("-command-palette")
        and key.region.width > 0
        and footer.region.x <= key.region.x
        and key.region.right <= right
    ]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_help_and_quit_show_in_every_area_footer(size: tuple[int, int]) -> None:
    app = LexituiApp()
    async with app.run_test(size=size) as pilot:
        await app.services_ready.wait()
        for item in AREAS:
            await app.switch_mode(item.mode)
            await until(lambda: bool(visible_footer_entries(app.screen)))
            await pilot.pause()
            shown = visible_footer_entries(app.screen)
            assert "Help" in shown and "Quit" in shown, (item.mode, shown)
            # Typing in a field: ? and q are letters there, the footer names other keys.
            fields = [field for field in app.screen.query(Input) if field.display]
            if fields:
                fields[0].focus()
                await pilot.pause()
                await until(lambda: bool(visible_footer_entries(app.screen)))
                shown = visible_footer_entries(app.screen)
                assert "Help" in shown and "Quit" in shown, (item.mode, "typing", shown)


def help_rows(screen: Screen[object]) -> list[tuple[str, ...]]:
    table = screen.query_one(DataTable)
    return [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def test_help_has_a_section_for_every_area() -> None:
    app = LexituiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.services_ready.wait()
        await pilot.press("question_mark")
        await until(lambda: isinstance(app.screen, HelpScreen))
        sections = {row[0] for row in help_rows(app.screen)}
        assert {item.title for item in AREAS} <= sections
        ids = {row[3] for row in help_rows(app.screen)}
        assert {"discover.download", "downloads.retry", "app.help", "area.models"} <= ids


@pytest.mark.parametrize("mode", [item.mode for item in AREAS])
async def test_help_opens_at_the_current_area(mode: str) -> None:
    app = LexituiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.services_ready.wait()
        await app.switch_mode(mode)
        await pilot.pause()
        app.action_help()
        await until(lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        title = next(item.title for item in AREAS if item.mode == mode)
        assert str(table.get_row_at(table.cursor_row)[0]) == title
        # The section's first row is on screen, at the top of the table.
        first = [row[0] for row in help_rows(app.screen)].index(title)
        assert table.cursor_row == first
        assert round(table.scroll_y) <= first < round(table.scroll_y) + table.size.height - 1

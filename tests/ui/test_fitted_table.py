"""Tables give their text columns the width the screen has: whole where there is room, cut with
an ellipsis (and every other column still on screen) where there is not."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets._data_table import RowRenderables

from lexitui.ui.widgets.fitted_table import FittedTable, share

LONG = "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF (Q4_K_M)"


def test_share_gives_a_short_column_what_it_needs_and_the_rest_to_the_others() -> None:
    assert share(50, [10, 100]) == [10, 40]
    assert share(50, [100, 100]) == [25, 25]
    assert share(200, [10, 30]) == [10, 30]  # never wider than the text
    assert share(4, [30, 30]) == [8, 8]  # past the minimum the table scrolls instead


class OneTable(App[None]):
    def compose(self) -> ComposeResult:
        yield FittedTable(flexible={"Name", "Status"}, id="table")

    def on_mount(self) -> None:
        table = self.query_one(FittedTable)
        table.add_columns("Name", "Size", "Status")
        table.add_row(LONG, "93.9 MiB", "failed: connection refused by the server")


def cell_text(app: OneTable, row: int) -> str:
    table = app.query_one(FittedTable)
    return "".join(segment.text for segment in table.render_line(row))


async def test_a_long_name_shows_whole_on_a_wide_terminal() -> None:
    app = OneTable()
    async with app.run_test(size=(160, 10)) as pilot:
        await pilot.pause()
        line = cell_text(app, 1)
        assert LONG in line and "failed: connection refused by the server" in line
        assert "…" not in line


async def test_on_a_narrow_terminal_text_is_cut_with_an_ellipsis_and_nothing_scrolls() -> None:
    app = OneTable()
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        table = app.query_one(FittedTable)
        line = cell_text(app, 1)
        assert "93.9 MiB" in line and "…" in line
        assert table.virtual_size.width <= table.content_region.width


async def test_the_columns_follow_a_resize() -> None:
    app = OneTable()
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        await pilot.resize_terminal(160, 10)
        await pilot.pause()
        assert LONG in cell_text(app, 1)


class CountingTable(FittedTable):
    """Counts the rows whose cells are formatted again (the costly step of a repaint)."""

    computed: list[int]

    def _compute_row_renderables(self, row_index: int) -> RowRenderables:
        self.computed.append(row_index)
        return super()._compute_row_renderables(row_index)


class ManyRows(App[None]):
    def compose(self) -> ComposeResult:
        yield CountingTable(flexible={"Name"}, id="table")

    def on_mount(self) -> None:
        table = self.query_one(CountingTable)
        table.computed = []
        table.add_column("Name", key="Name")
        table.add_column("Progress", key="Progress")
        for n in range(200):
            table.add_row(f"model-{n}", "done", key=f"row-{n}")


async def test_a_changed_cell_repaints_its_own_row_only() -> None:
    app = ManyRows()
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.pause()
        table = app.query_one(CountingTable)
        table.computed.clear()
        table.update_cell("row-3", "Progress", "50%")
        await pilot.pause()
        assert "50%" in cell_text(app, 4)  # the header is line 0
        assert "done" in cell_text(app, 5)  # its neighbour is as it was
        assert set(table.computed) == {3}


async def test_a_changed_cell_out_of_view_shows_when_scrolled_to() -> None:
    app = ManyRows()
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.pause()
        table = app.query_one(CountingTable)
        table.update_cell("row-150", "Progress", "75%")
        table.move_cursor(row=150)
        await pilot.pause()
        assert table.get_cell("row-150", "Progress") == "75%"
        row_line = 150 - int(table.scroll_y) + 1
        assert "75%" in cell_text(app, row_line)

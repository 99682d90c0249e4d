"""A table whose text columns take the width the screen has, no more, no less.

A plain ``DataTable`` sizes each column to its widest cell, or to a fixed width chosen in
advance: a long name then either pushes the other columns behind a horizontal scrollbar, or is
cut beside empty space on a wide terminal. Here the *flexible* columns (names, files, paths,
errors: text of any length) share what the other columns leave, each up to what its own text
needs, on every resize and every change of the rows; a cut shows an ellipsis.

A changed cell re-renders its own row only. Textual keys every cached render on one table-wide
counter, so its ``update_cell`` re-renders each visible row: a live download ticking beside a
screenful of history then cost a whole repaint (~0.1 s of CPU) per tick.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from rich.text import Text
from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets._data_table import (
    CellDoesNotExist,
    CellType,
    Column,
    ColumnKey,
    RowKey,
    RowRenderables,
)

# A flexible column is never squeezed below this: past it, the table scrolls sideways instead.
MIN_FLEXIBLE = 8


def share(room: int, needs: Sequence[int], minimum: int = MIN_FLEXIBLE) -> list[int]:
    """Widths for columns that need ``needs``, sharing ``room``: a column that needs less than
    an even share takes only what it needs and leaves the rest to the others."""
    widths = [0] * len(needs)
    left = room
    order = sorted(range(len(needs)), key=lambda i: needs[i])
    for done, i in enumerate(order):
        even = left // (len(needs) - done)
        widths[i] = max(min(needs[i], minimum), min(needs[i], even))
        left -= widths[i]
    return widths


class FittedTable(DataTable[Any]):
    def __init__(self, *, flexible: Collection[str], **kwargs: Any) -> None:
        """``flexible``: the labels (or keys) of the columns that share the spare width."""
        super().__init__(**kwargs)
        self.flexible = frozenset(flexible)

    def _flexible_columns(self) -> list[Column]:
        return [
            column
            for column in self.ordered_columns
            if column.label.plain in self.flexible or column.key.value in self.flexible
        ]

    def fit_columns(self) -> None:
        """Give the flexible columns the width the others leave (each at most what it needs)."""
        flexible = self._flexible_columns()
        width = self.content_region.width
        if not flexible or width <= 0:
            return
        rows_height = self._total_row_height + (self.header_height if self.show_header else 0)
        if rows_height > self.content_region.height:
            width -= self.styles.scrollbar_size_vertical
        others = sum(c.get_render_width(self) for c in self.ordered_columns if c not in flexible)
        padding = 2 * self.cell_padding * len(flexible)
        room = width - others - padding - self._row_label_column_width
        widths = share(room, [c.content_width for c in flexible])
        if all(not c.auto_width and c.width == w for c, w in zip(flexible, widths, strict=True)):
            return
        for column, column_width in zip(flexible, widths, strict=True):
            column.auto_width = False
            column.width = column_width
        total = sum(c.get_render_width(self) for c in self.ordered_columns)
        self.virtual_size = Size(total + self._row_label_column_width, self.virtual_size.height)
        self._clear_caches()
        self.refresh()

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: CellType,
        *,
        update_width: bool = False,
    ) -> None:
        """Set one cell and repaint its row; the other rows keep their cached renders."""
        if update_width:  # the columns may move: everything is redrawn anyway
            super().update_cell(row_key, column_key, value, update_width=True)
            return
        row = RowKey(row_key) if isinstance(row_key, str) else row_key
        column = ColumnKey(column_key) if isinstance(column_key, str) else column_key
        if row not in self._row_locations or column not in self._column_locations:
            raise CellDoesNotExist(f"No cell exists for row_key={row!r}, column_key={column!r}.")
        self._data[row][column] = value
        index = self._row_locations.get(row)
        # Cached by row key (cells, rows), by row index (renderables), or by screen line.
        _drop(self._cell_render_cache, lambda key: key[0] == row)
        _drop(self._row_render_cache, lambda key: key[0] == row)
        _drop(self._row_renderable_cache, lambda key: key[1] == index)
        self._line_cache.clear()  # lines are assembled from the row renders: cheap to redo
        if index is not None:
            self.refresh_row(index)

    def _on_resize(self, event: events.Resize) -> None:
        super()._on_resize(event)
        self.fit_columns()

    def _update_dimensions(self, new_rows: Any) -> None:
        # Runs once the table has measured new or changed cells: their widths are known now.
        super()._update_dimensions(new_rows)
        self.fit_columns()

    def _compute_row_renderables(self, row_index: int) -> RowRenderables:
        label, cells = super()._compute_row_renderables(row_index)
        return RowRenderables(label, [_ellipsised(cell) for cell in cells])


def _drop(cache: LRUCache[Any, Any], stale: Callable[[Any], bool]) -> None:
    for key in list(cache.keys()):
        if stale(key):
            cache.discard(key)


def _ellipsised(cell: object) -> Any:
    """A text cut at the column's edge ends in "…" rather than mid-word with no sign."""
    if isinstance(cell, Text) and cell.overflow is None:
        cell = cell.copy()
        cell.overflow = "ellipsis"
    return cell

"""A table whose text columns take the width the screen has, no more, no less.

A plain ``DataTable`` sizes each column to its widest cell, or to a fixed width chosen in
advance: a long name then either pushes the other columns behind a horizontal scrollbar, or is
cut beside empty space on a wide terminal. Here the *flexible* columns (names, files, paths,
errors: text of any length) share what the other columns leave, each up to what its own text
needs, on every resize and every change of the rows; a cut shows an ellipsis.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets._data_table import Column, RowRenderables

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


def _ellipsised(cell: object) -> Any:
    """A text cut at the column's edge ends in "…" rather than mid-word with no sign."""
    if isinstance(cell, Text) and cell.overflow is None:
        cell = cell.copy()
        cell.overflow = "ellipsis"
    return cell

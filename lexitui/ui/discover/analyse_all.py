"""Discover's "Fit all" (``A``): every model of the current results analysed for this machine, one
table, filled in as each model is done.

A thin view over ``DiscoveryService.analyse_all`` (the bulk fit ``lexitui fit`` prints): each
row shows the best variant that fits, its fit, memory and speed, or why there is none. A model
that fails says why on its own row; the others go on. Esc closes it, which also stops the work.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey

from lexitui.discovery.bulk_fit import FitRow
from lexitui.discovery.service import DiscoveryService
from lexitui.domain.discovery import RemoteModel
from lexitui.domain.units import format_bytes
from lexitui.ui.text import markup_safe, plain
from lexitui.ui.widgets.fit import level_cell
from lexitui.ui.widgets.fitted_table import FittedTable

RESULT_COLUMNS = ("Best variant", "Fit", "Memory", "tok/s", "Note")
PENDING = "[dim]…[/]"


def _note(row: FitRow) -> str:
    # The row already names the model: "owner/name: not found ..." reads as "not found ...".
    reason = (row.reason or "").removeprefix(f"{row.model}: ")
    reason = reason.replace(f"No variant of {row.model} ", "No variant ")
    return markup_safe(reason, 200)


def row_cells(row: FitRow) -> tuple[str, ...]:
    """The cells after the model's name: a failed row says why in its note."""
    if not row.analysed:
        return ("-", "[red]failed[/]", "-", "-", _note(row) or "?")
    memory = "-"
    if row.vram_bytes:
        memory = f"{format_bytes(row.vram_bytes)} GPU"
    elif row.ram_bytes is not None:
        memory = format_bytes(row.ram_bytes)
    speed = "-" if row.tokens_per_second is None else f"{row.tokens_per_second:.0f}"
    note = "" if row.variant else _note(row)
    return (markup_safe(row.variant or "none fits", 40), level_cell(row.level), memory, speed, note)


class AnalyseAllScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    AnalyseAllScreen {
        align: center middle;
    }
    #analyse-box {
        width: 95%;
        height: 90%;
        border: $frame $accent;
        background: $surface;
        padding: 0 1;
    }
    #analyse-table {
        height: 1fr;
    }
    """
    BINDINGS = [Binding("escape,q", "close", "Close", id="analyse_all.close")]

    def __init__(
        self, discovery: DiscoveryService, models: Sequence[RemoteModel], *, labelled: bool
    ) -> None:
        """``labelled``: results come from several registries, so each row names its own."""
        super().__init__()
        self._discovery = discovery
        self._models = list(models)
        self._labelled = labelled
        self._done = 0
        self._result_columns: list[ColumnKey] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="analyse-box"):
            yield Static("[b]Fit all[/b]: the best variant of each result for this machine")
            yield Static("", id="analyse-progress")
            yield FittedTable(flexible={"Model", "Note"}, id="analyse-table", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one("#analyse-table", DataTable)
        table.add_columns("Model", *(("Registry",) if self._labelled else ()))
        self._result_columns = table.add_columns(*RESULT_COLUMNS)
        for index, model in enumerate(self._models):
            where = (plain(model.registry_name or "?", 32),) if self._labelled else ()
            pending = [PENDING] * len(RESULT_COLUMNS)
            table.add_row(plain(model.id, 100), *where, *pending, key=str(index))
        table.focus()
        self._progress()
        self.analyse()

    @work(exclusive=True, group="analyse-all")
    async def analyse(self) -> None:
        rows = await self._discovery.analyse_all(self._models, on_row=self._show_row)
        fitting = sum(1 for r in rows if r.variant is not None and r.analysed)
        failed = sum(1 for r in rows if not r.analysed)
        summary = f"Done: {fitting} of {len(rows)} have a variant that fits"
        if failed:
            summary += f", {failed} could not be analysed"
        self.query_one("#analyse-progress", Static).update(summary + ". Esc closes.")

    def _show_row(self, index: int, row: FitRow) -> None:
        table = self.query_one("#analyse-table", DataTable)
        for column, cell in zip(self._result_columns, row_cells(row), strict=True):
            table.update_cell(str(index), column, cell, update_width=True)
        self._done += 1
        self._progress()

    def _progress(self) -> None:
        total = len(self._models)
        self.query_one("#analyse-progress", Static).update(
            f"Analysing… {self._done} of {total} done" if total else "No results to analyse."
        )

    def action_close(self) -> None:
        self.dismiss(None)

"""The snapshot picker of the Runtime area: a model's saved KV caches, newest first.

Enter returns the highlighted snapshot and the caller restores it (into the model that saved it:
another model cannot use it). ``d`` deletes one, its file included, after a yes/no question, since
a deleted cache cannot be rebuilt without replaying the whole conversation. Labels are user text
and are made safe before they reach the terminal.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from lexitui.domain.inference import ContextSnapshot
from lexitui.domain.text import safe_text
from lexitui.domain.units import format_bytes
from lexitui.ui.runtime.load_dialog import app_services
from lexitui.ui.widgets.confirm_dialog import ConfirmDialog
from lexitui.ui.widgets.fitted_table import FittedTable
from lexitui.ui.widgets.model_cells import shown

COLUMNS = ("Saved", "Label", "Tokens", "Size")
NUMBER_WIDTH = 9


def saved_at(when: datetime) -> str:
    """Local time: the user compares it with their own clock, not UTC."""
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


def snapshot_cells(snapshot: ContextSnapshot) -> tuple[Text, Text, Text, Text]:
    return (
        Text(saved_at(snapshot.created_at)),
        Text(safe_text(snapshot.label, 60) or "—", style="" if snapshot.label else "dim"),
        # Padded by hand: the table does not right-align cells, and figures compare by their ends.
        Text(f"{snapshot.token_count:>{NUMBER_WIDTH},}"),
        Text(f"{format_bytes(snapshot.size_bytes):>{NUMBER_WIDTH}}"),
    )


class SnapshotPicker(ModalScreen[ContextSnapshot | None]):
    DEFAULT_CSS = """
    SnapshotPicker { align: center middle; }
    #snap-box {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: $frame $accent; background: $surface; padding: 0 1;
    }
    #snap-table { height: auto; max-height: 16; }
    #snap-empty { padding: 1 0; }
    #snap-status { height: auto; }
    #snap-status.error { color: $error; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="snapshots.close"),
        Binding("d,delete", "delete", "Delete", id="snapshots.delete"),
    ]

    def __init__(self, model_id: str, model_name: str | None = None) -> None:
        """Snapshots saved from ``model_id``; ``model_name`` is what the title calls it."""
        super().__init__()
        self.model_id = model_id
        self.model_name = model_name or model_id
        self.snapshots: list[ContextSnapshot] = []
        self.loaded = False  # True once the first listing has arrived

    def compose(self) -> ComposeResult:
        with Vertical(id="snap-box"):
            table = FittedTable(
                flexible={"label"}, cursor_type="row", zebra_stripes=True, id="snap-table"
            )
            yield table
            yield Static("", id="snap-empty")
            yield Static("Reading the saved snapshots…", id="snap-status")

    def on_mount(self) -> None:
        box = self.query_one("#snap-box")
        box.border_title = f"Snapshots · {shown(self.model_name, 60)}"
        box.border_subtitle = "Enter restores · d deletes · Esc closes"
        table = self.query_one("#snap-table", DataTable)
        table.add_column(COLUMNS[0], key="saved")
        table.add_column(COLUMNS[1], key="label")
        table.add_column(f"{COLUMNS[2]:>{NUMBER_WIDTH}}", key="tokens")
        table.add_column(f"{COLUMNS[3]:>{NUMBER_WIDTH}}", key="size")
        self.query_one("#snap-empty").display = False
        table.focus()
        self.reload()

    @work(exclusive=True, group="snapshots-list")
    async def reload(self, keep_row: int = 0) -> None:
        try:
            context = (await app_services(self)).context
            snapshots = await context.list_snapshots(self.model_id)
        except Exception as exc:  # the store can fail; the dialog says so and stays usable
            self._status(f"Cannot read the snapshots: {safe_text(str(exc))}", error=True)
            return
        self.snapshots = snapshots
        self.loaded = True
        self._fill(keep_row)

    def _fill(self, keep_row: int) -> None:
        table = self.query_one("#snap-table", DataTable)
        table.clear()
        for snapshot in self.snapshots:
            table.add_row(*snapshot_cells(snapshot), key=snapshot.id)
        empty = self.query_one("#snap-empty", Static)
        table.display = bool(self.snapshots)
        empty.display = not self.snapshots
        if self.snapshots:
            table.move_cursor(row=min(keep_row, len(self.snapshots) - 1))
            count = len(self.snapshots)
            self._status(f"{count} snapshot{'s' if count != 1 else ''} saved")
        else:
            empty.update(
                Text(
                    f"No snapshots saved for {safe_text(self.model_name, 60)} yet: "
                    "press s in the chat to save one."
                )
            )
            self._status("")

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#snap-status", Static)
        status.update(Text(text))
        status.set_class(error, "error")
        status.display = bool(text)

    def highlighted(self) -> ContextSnapshot | None:
        table = self.query_one("#snap-table", DataTable)
        if not self.snapshots or not table.display:
            return None
        return self.snapshots[min(table.cursor_row, len(self.snapshots) - 1)]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        snapshot = self.highlighted()
        if snapshot is not None:
            self.dismiss(snapshot)

    @work(exclusive=True, group="snapshots-delete")
    async def action_delete(self) -> None:
        snapshot = self.highlighted()
        if snapshot is None:
            return
        row = self.snapshots.index(snapshot)
        what = shown(snapshot.label, 60) or f"the one saved {saved_at(snapshot.created_at)}"
        body = (
            f"Delete snapshot {what} ({snapshot.token_count:,} tokens, "
            f"{format_bytes(snapshot.size_bytes)})? Its file is removed too."
        )
        if not await self.app.push_screen_wait(ConfirmDialog("Delete snapshot?", body, "Delete")):
            return
        try:
            await (await app_services(self)).context.delete_snapshot(snapshot)
        except Exception as exc:  # a refused file name or a store error: shown, nothing crashes
            self._status(f"Cannot delete: {safe_text(str(exc))}", error=True)
            return
        self.reload(keep_row=row)

    def action_close(self) -> None:
        self.dismiss(None)

"""Downloads: the queue and its history, with live progress and the keys to steer it.

A thin view over ``DownloadManager``: rows come from ``get_downloads()`` and ``get_history()``;
progress events (at most a few per second per download, never one per network read) update the
row of their download in place; a status change rebuilds the table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from lexitui.domain.downloads import ModelDownload
from lexitui.domain.enums import DownloadPriority, DownloadStatus
from lexitui.domain.units import format_bytes
from lexitui.downloads.records import DownloadProgressEvent
from lexitui.events import Event
from lexitui.ui.screens.base import AreaScreen
from lexitui.ui.widgets.fitted_table import FittedTable

# Lowest first: "+" moves a download one step right, "-" one step left.
PRIORITIES = (DownloadPriority.LOW, DownloadPriority.NORMAL, DownloadPriority.HIGH)
COLUMNS = ("Model", "File", "Progress", "Speed", "ETA", "Status")
# Columns of text of any length: they share what the others leave, so Progress stays on screen
# at 80 columns and a long name or error shows whole where there is room.
FLEXIBLE = {"Model", "File", "Status"}
STATUS_STYLE = {
    DownloadStatus.COMPLETED: "green",
    DownloadStatus.FAILED: "red",
    DownloadStatus.CANCELLED: "dim",
    DownloadStatus.PAUSED: "yellow",
}


def size_cell(n: int) -> str:
    return format_bytes(n)


def progress_cell(done: int, total: int) -> str:
    if total <= 0:
        return size_cell(done)
    share = min(1.0, done / total)
    filled = int(share * 10)
    return f"{'█' * filled}{'░' * (10 - filled)} {share * 100:3.0f}% of {size_cell(total)}"


def eta_cell(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def status_cell(status: DownloadStatus, error: str | None = None) -> str:
    text = status.value + (f": {escape(error)}" if error else "")
    style = STATUS_STYLE.get(status)
    return f"[{style}]{text}[/]" if style else text


class DownloadsScreen(AreaScreen):
    BINDINGS = [
        Binding("p", "pause", "Pause", id="downloads.pause"),
        Binding("u", "resume", "Resume", id="downloads.resume"),
        Binding("x", "cancel", "Cancel", id="downloads.cancel"),
        Binding("t", "retry", "Retry", id="downloads.retry"),
        Binding("plus", "priority(1)", "Priority up", id="downloads.priority_up"),
        Binding("minus", "priority(-1)", "Priority down", id="downloads.priority_down"),
        Binding("r", "refresh", "Refresh", id="downloads.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__("downloads")
        self.rows: list[ModelDownload] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Downloads", classes="area-title")
        yield FittedTable(
            flexible=FLEXIBLE, id="downloads-table", cursor_type="row", zebra_stripes=True
        )
        yield Static("", id="downloads-note")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lexitui · Downloads"
        table = self.query_one(DataTable)
        for name in COLUMNS:
            table.add_column(name, key=name)

    async def on_screen_resume(self) -> None:
        services = await self.ready()
        self.watch_stream(services.bus.downloads, self._on_event)
        self.watch_stream(services.download_manager.progress, self._on_progress)
        self.action_refresh()

    def _on_event(self, _event: Event) -> None:
        self.action_refresh()

    def _on_progress(self, event: DownloadProgressEvent) -> None:
        table = self.query_one(DataTable)
        if event.download_id not in table.rows:
            self.action_refresh()
            return
        cells = {
            "Progress": progress_cell(event.downloaded_bytes, event.total_bytes),
            "Speed": f"{size_cell(event.bytes_per_second)}/s" if event.bytes_per_second else "",
            "ETA": eta_cell(event.eta_seconds),
            "Status": status_cell(event.status),
        }
        for column, value in cells.items():
            table.update_cell(event.download_id, column, value)

    @work(exclusive=True, group="downloads-refresh")
    async def action_refresh(self) -> None:
        manager = (await self.ready()).download_manager
        active = await manager.get_downloads()
        history = await manager.get_history()
        seen = {d.id for d in active}
        self.rows = active + [d for d in history if d.id not in seen]
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for d in self.rows:
            table.add_row(
                escape(d.model.id), escape(d.variant.filename),
                progress_cell(d.downloaded_bytes, d.total_bytes), "", "",
                status_cell(d.status, d.error), key=d.id,
            )  # fmt: skip
        if self.rows:
            table.move_cursor(row=min(row, len(self.rows) - 1))
        self.query_one("#downloads-note", Static).update(
            ""
            if self.rows
            else "Nothing here yet: pick a variant in Discover (4) and press d, "
            "or run `lexitui pull REPO:QUANT`."
        )

    def selected(self) -> ModelDownload | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def _steer(self, verb: str) -> None:
        download = self.selected()
        if download is not None:
            self._run_steer(verb, download.id)

    @work(group="downloads-steer")
    async def _run_steer(self, verb: str, download_id: str) -> None:
        manager = (await self.ready()).download_manager
        actions: dict[str, Callable[[str], Awaitable[ModelDownload]]] = {
            "pause": manager.pause_download,
            "resume": manager.resume_download,
            "cancel": manager.cancel_download,
            "retry": manager.retry_download,
        }
        try:
            await actions[verb](download_id)
        except (ValueError, LookupError, RuntimeError, OSError) as exc:
            self.notify(escape(str(exc)), severity="error")
        self.action_refresh()

    def action_pause(self) -> None:
        self._steer("pause")

    def action_resume(self) -> None:
        self._steer("resume")

    def action_cancel(self) -> None:
        self._steer("cancel")

    def action_retry(self) -> None:
        self._steer("retry")

    def action_priority(self, step: int) -> None:
        download = self.selected()
        if download is not None:
            at = PRIORITIES.index(download.options.priority)
            wanted = PRIORITIES[max(0, min(len(PRIORITIES) - 1, at + step))]
            self._run_priority(download.id, wanted)

    @work(group="downloads-steer")
    async def _run_priority(self, download_id: str, priority: DownloadPriority) -> None:
        manager = (await self.ready()).download_manager
        try:
            changed = await manager.set_priority(download_id, priority)
        except (ValueError, LookupError, RuntimeError, OSError) as exc:
            self.notify(escape(str(exc)), severity="error")
            return
        self.notify(f"{escape(changed.variant.filename)}: {priority.value} priority")
        self.action_refresh()

"""Downloads: the queue and its history, with live progress and the keys to steer it.

A thin view over ``DownloadManager``: rows come from ``get_downloads()`` and ``get_history()``;
progress events (at most a few per second per download, never one per network read) update the
cells of their download's row in place, never reloading the store nor rebuilding the table; only
a change of structure (a download queued, started, finished or steered) rebuilds it, and a
download whose progress comes before its row asks for one reload, not one per tick. The status
column holds the status word alone: the full reason, the source and what to do are shown for the
highlighted download below the table (and in a dialog on Enter).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Static

from lexitui.domain.downloads import ModelDownload
from lexitui.domain.enums import DownloadPriority, DownloadStatus
from lexitui.domain.units import format_bytes
from lexitui.downloads.records import DownloadProgressEvent
from lexitui.events import (
    Event,
    ModelDeleted,
    ModelDownloadCompleted,
    ModelDownloadQueued,
    ModelDownloadStarted,
    ModelInstalled,
)
from lexitui.services.edition_usage import downloads as edition_downloads
from lexitui.ui.downloads.details import DownloadDetailsScreen, describe, needs_token
from lexitui.ui.downloads.hub_token import hub_token_set
from lexitui.ui.shell.area_header import AreaHeader
from lexitui.ui.shell.area_screen import AreaScreen
from lexitui.ui.text import escape_markup, markup_safe
from lexitui.ui.widgets.fitted_table import FittedTable
from lexitui.ui.widgets.limit_pill import LimitPill

# What changes the list of downloads. Progress is not among them: the manager's own progress
# stream updates the one row it is about, without reading the store again.
LISTED_CHANGES = (
    ModelDownloadQueued,
    ModelDownloadStarted,
    ModelDownloadCompleted,
    ModelInstalled,
    ModelDeleted,
)
# A running download's job reports these steps on the progress stream only.
RUNNING = (DownloadStatus.DOWNLOADING, DownloadStatus.VERIFYING, DownloadStatus.INSTALLING)
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


def progress_cell(done: int, total: int) -> str:
    if total <= 0:
        return format_bytes(done)
    share = min(1.0, done / total)
    filled = int(share * 10)
    return f"{'█' * filled}{'░' * (10 - filled)} {share * 100:3.0f}% of {format_bytes(total)}"


def eta_cell(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def status_cell(status: DownloadStatus) -> str:
    """The status word alone: a reason cut to the column's width says nothing (the detail
    pane below the table has the whole of it)."""
    style = STATUS_STYLE.get(status)
    return f"[{style}]{status.value}[/]" if style else status.value


def describe_needs_token(download: ModelDownload) -> bool:
    return download.status is DownloadStatus.FAILED and needs_token(download.error or "")


def speed_cell(live: DownloadProgressEvent | None) -> str:
    if live is None or not live.bytes_per_second:
        return ""
    return f"{format_bytes(live.bytes_per_second)}/s"


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
        # The latest progress of each running download: speed and ETA survive a rebuild.
        self.live: dict[str, DownloadProgressEvent] = {}
        # Downloads whose progress came before their row: one reload was asked for each.
        self._reload_asked: set[str] = set()

    def compose(self) -> ComposeResult:
        yield AreaHeader()
        with Horizontal(id="downloads-title-row"):
            yield Static("Downloads", classes="area-title")
            yield LimitPill(id="downloads-kept")
            yield LimitPill(id="downloads-storage")
        yield FittedTable(
            flexible=FLEXIBLE, id="downloads-table", cursor_type="row", zebra_stripes=True
        )
        yield Static("", id="downloads-detail")
        yield Static("", id="downloads-note")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lexitui · Downloads"
        table = self.query_one(DataTable)
        for name in COLUMNS:
            table.add_column(name, key=name)

    async def on_screen_resume(self) -> None:
        services = await self.ready()
        self.watch_stream(services.bus.of(*LISTED_CHANGES), self._on_event)
        self.watch_stream(services.download_manager.progress, self._on_progress)
        self.action_refresh()

    def _on_event(self, _event: Event) -> None:
        self.action_refresh()

    def _on_progress(self, event: DownloadProgressEvent) -> None:
        table = self.query_one(DataTable)
        at = next((i for i, d in enumerate(self.rows) if d.id == event.download_id), None)
        self.live[event.download_id] = event
        if at is None or event.download_id not in table.rows:
            # A download this table has not shown yet: one reload brings it in. Its ticks keep
            # coming while that reload reads the store, and each new reload would cancel the
            # one in flight: with a long history none would ever finish.
            if event.download_id not in self._reload_asked:
                self._reload_asked.add(event.download_id)
                self.action_refresh()
            return
        # A pause or a job's own step (verifying, installing) changes the row in place; a
        # start, an end or a failure also comes as a bus event, which rebuilds the table.
        known = self.rows[at]
        if known.status is not event.status:
            self.rows[at] = replace(
                known, status=event.status, downloaded_bytes=event.downloaded_bytes
            )
        cells = {
            "Progress": progress_cell(event.downloaded_bytes, event.total_bytes),
            "Speed": speed_cell(event),
            "ETA": eta_cell(event.eta_seconds),
            "Status": status_cell(event.status),
        }
        for column, value in cells.items():
            table.update_cell(event.download_id, column, value)
        chosen = self.selected()
        if chosen is not None and chosen.id == event.download_id:
            self._show_detail(chosen)

    async def _show_usage(self) -> None:
        """The downloaded models and storage against the edition's limits, where they apply."""
        usage = {u.limit: u for u in await edition_downloads(await self.ready())}
        self.query_one("#downloads-kept", LimitPill).show(usage.get("downloaded_models"))
        self.query_one("#downloads-storage", LimitPill).show(usage.get("storage_bytes"))

    @work(exclusive=True, group="downloads-refresh")
    async def action_refresh(self) -> None:
        manager = (await self.ready()).download_manager
        active = await manager.get_downloads()
        history = await manager.get_history()
        seen = {d.id for d in active}
        self.rows = active + [d for d in history if d.id not in seen]
        self._reload_asked -= {d.id for d in self.rows}
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for d in self.rows:
            live = self.live.get(d.id) if d.status is DownloadStatus.DOWNLOADING else None
            if live is not None and live.status not in RUNNING:
                live = None  # from before a pause or a retry: its speed is no longer true
            done = live.downloaded_bytes if live is not None else d.downloaded_bytes
            table.add_row(
                markup_safe(d.model.id), markup_safe(d.variant.filename),
                progress_cell(done, d.total_bytes), speed_cell(live),
                eta_cell(live.eta_seconds if live is not None else None),
                status_cell(live.status if live is not None else d.status), key=d.id,
            )  # fmt: skip
        if self.rows:
            table.move_cursor(row=min(row, len(self.rows) - 1))
        chosen = self.selected()
        self._show_detail(chosen)
        await self._show_usage()
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

    def describe(self, download: ModelDownload) -> str:
        live = self.live.get(download.id)
        # Only a failure's advice depends on the token: no lookup per progress event.
        failed = download.status is DownloadStatus.FAILED
        return describe(download, live, has_token=failed and hub_token_set(self.services.config))

    def _show_detail(self, download: ModelDownload | None) -> None:
        detail = self.query_one("#downloads-detail", Static)
        detail.update(self.describe(download) if download is not None else "")
        detail.display = download is not None

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_detail(self.selected())

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        download = self.selected()
        if download is not None:
            self.app.push_screen(DownloadDetailsScreen(self.describe(download)))

    def _steer(self, verb: str) -> None:
        download = self.selected()
        if download is None:
            self.notify("No download is highlighted.", severity="warning")
            return
        self._run_steer(verb, download)

    @work(group="downloads-steer")
    async def _run_steer(self, verb: str, download: ModelDownload) -> None:
        services = await self.ready()
        manager = services.download_manager
        actions: dict[str, tuple[Callable[[str], Awaitable[ModelDownload]], str]] = {
            "pause": (manager.pause_download, "Paused"),
            "resume": (manager.resume_download, "Resuming"),
            "cancel": (manager.cancel_download, "Cancelled"),
            "retry": (manager.retry_download, "Retrying"),
        }
        action, done = actions[verb]
        name = markup_safe(download.variant.filename)
        try:
            await action(download.id)
        except (ValueError, LookupError, RuntimeError, OSError) as exc:
            self.notify(f"Cannot {verb} {name}: {markup_safe(str(exc), 600)}", severity="error")
        else:
            self.notify(f"{done} {name}.")
            retried_without_token = (
                verb == "retry"
                and describe_needs_token(download)
                and not hub_token_set(services.config)
            )
            if retried_without_token:
                self.notify(
                    escape_markup(
                        "It failed for want of a Hugging Face token and none is set: set HF_TOKEN "
                        "(or `token` under [huggingface]) or it will fail again."
                    ),
                    severity="warning",
                )
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
            self.notify(markup_safe(str(exc), 600), severity="error")
            return
        self.notify(f"{markup_safe(changed.variant.filename)}: {priority.value} priority")
        self.action_refresh()

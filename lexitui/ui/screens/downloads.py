"""Downloads: the queue of variants handed over from Discover.

The downloader itself (resumable, verified fetching) is not built yet, and the screen says so
instead of pretending progress; the queue it will work through is real and survives restarts.
"""

from __future__ import annotations

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from lexitui.events import Event
from lexitui.ui.screens.base import AreaScreen

NOT_BUILT = (
    "Fetching is not built yet: queued variants wait here and start once the resumable, "
    "verified downloader lands (roadmap v0.16.3)."
)


class DownloadsScreen(AreaScreen):
    BINDINGS = [Binding("r", "refresh", "Refresh", id="downloads.refresh")]

    def __init__(self) -> None:
        super().__init__("downloads")

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Download queue", classes="area-title")
        yield DataTable(id="downloads-table", cursor_type="row", zebra_stripes=True)
        yield Static(NOT_BUILT, id="downloads-note")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lexitui · Downloads"
        self.query_one(DataTable).add_columns("Model", "Variant", "Size", "Status", "Queued")

    async def on_screen_resume(self) -> None:
        services = await self.ready()
        self.watch_stream(services.bus.downloads, self._on_event)
        self.action_refresh()

    def _on_event(self, _event: Event) -> None:
        self.action_refresh()

    @work(exclusive=True, group="downloads-refresh")
    async def action_refresh(self) -> None:
        services = await self.ready()
        downloads = await services.downloads.list()
        table = self.query_one(DataTable)
        table.clear()
        for d in downloads:
            table.add_row(
                escape(d.model.id), escape(d.variant.filename), f"{d.total_bytes / 1e9:.2f} GB",
                d.status.value, d.queued_at.strftime("%Y-%m-%d %H:%M"), key=d.id,
            )  # fmt: skip
        empty = "Nothing queued: pick a variant in Discover (4) and press d.\n"
        self.query_one("#downloads-note", Static).update(
            (empty if not downloads else "") + NOT_BUILT
        )

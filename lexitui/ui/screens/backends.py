"""Backends: every inference server lexitui knows, its status, and the keys to manage them.

A thin view over ``BackendManager``: the table is rebuilt from ``reports()`` (one health probe per
backend) and refreshed whenever the status stream reports a transition. Text from a backend is
escaped by the backend layer and again by Rich markup escaping here, so it can never style or
move the terminal.
"""

from __future__ import annotations

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from lexitui.backends.errors import BackendError, InvalidBackendConfig, UnknownBackend
from lexitui.domain.backends import BackendReport
from lexitui.domain.enums import BackendStatus
from lexitui.events import Event
from lexitui.ui.screens.base import AreaScreen
from lexitui.ui.widgets.fitted_table import FittedTable

STATUS_STYLE = {
    BackendStatus.RUNNING: "green",
    BackendStatus.STARTING: "yellow",
    BackendStatus.STOPPING: "yellow",
    BackendStatus.ERROR: "red",
    BackendStatus.STOPPED: "dim",
    BackendStatus.UNKNOWN: "dim",
}


def status_cell(report: BackendReport) -> str:
    status = report.health.status
    return f"[{STATUS_STYLE[status]}]{status.value}[/]"


class BackendsScreen(AreaScreen):
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="backends.refresh"),
        Binding("s", "start_managed", "Start engine", id="backends.start"),
        Binding("x", "stop_managed", "Stop engine", id="backends.stop"),
        Binding("p", "prefer", "Set preferred", id="backends.prefer"),
        Binding("a", "add_custom", "Add endpoint", id="backends.add"),
        Binding("d", "remove_custom", "Remove endpoint", id="backends.remove"),
        Binding("l", "engine_log", "Engine log", id="backends.log"),
    ]

    def __init__(self) -> None:
        super().__init__("backends")
        self.reports: list[BackendReport] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Inference backends", classes="area-title")
        yield FittedTable(
            flexible={"Endpoint", "Reason"},
            id="backends-table",
            cursor_type="row",
            zebra_stripes=True,
        )
        yield Static("", id="backends-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lexitui · Backends"
        self.query_one(DataTable).add_columns(
            "Name", "Status", "Endpoint", "Latency", "Models", "Reason"
        )

    async def on_screen_resume(self) -> None:
        services = await self.ready()
        self.watch_stream(services.bus.backends, self._on_status)
        self.query_one(DataTable).focus()
        self.action_refresh()

    def _on_status(self, _event: Event) -> None:
        self.action_refresh()

    @work(exclusive=True, group="backends-refresh")
    async def action_refresh(self) -> None:
        services = await self.ready()
        self.reports = await services.backends.reports()
        managed = services.backends.managed
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for r in self.reports:
            latency = "" if r.health.latency_ms is None else f"{r.health.latency_ms:.0f} ms"
            models = "" if r.model_count is None else str(r.model_count)
            name = f"{escape(r.name)}{' ★' if r.preferred else ''}"
            reason = r.health.message
            if r.managed and r.health.up and managed.model_id:
                reason = f"serving {managed.model_id}; {reason}"
            table.add_row(
                name, status_cell(r), escape(r.endpoint or "-"), latency, models,
                escape(reason),
                key=r.name,
            )  # fmt: skip
        if self.reports:
            table.move_cursor(row=min(row, len(self.reports) - 1))

    def selected(self) -> BackendReport | None:
        table = self.query_one(DataTable)
        if not self.reports or table.cursor_row >= len(self.reports):
            return None
        return self.reports[table.cursor_row]

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        report = self.selected()
        if report is not None:
            self.query_one("#backends-detail", Static).update(
                f"[b]{escape(report.name)}[/b] ({report.type.value}"
                f"{', ' + escape(report.version) if report.version else ''}) "
                f"{status_cell(report)}: {escape(report.health.message or 'no message')}"
            )

    def _say(self, message: str, error: bool = False) -> None:
        self.notify(escape(message), severity="error" if error else "information")

    @work(exclusive=True, group="backends-managed")
    async def action_start_managed(self) -> None:
        services = await self.ready()
        active = services.runtime.active_model
        installed = await services.registry.list()
        if active is None and not installed:
            self._say("No installed model to start the engine with.", error=True)
            return
        # The model active in the Runtime area, else the first installed one (the starter, at
        # first). The managed engine is the one other programs reach as an OpenAI endpoint.
        target = active.model.id if active else installed[0].id
        self._say(f"Starting the embedded engine with {target}…")
        try:
            result = await services.backends.start_managed(target)
        except Exception as exc:  # shown to the user; the screen keeps working
            self._say(f"Could not start the engine: {exc}", error=True)
        else:
            if not result.success:
                self._say(f"Could not start the engine: {result.error}", error=True)
        self.action_refresh()

    @work(exclusive=True, group="backends-managed")
    async def action_stop_managed(self) -> None:
        try:
            await (await self.ready()).backends.stop_managed()
        except Exception as exc:  # shown to the user; the screen keeps working
            self._say(f"Could not stop the engine: {exc}", error=True)
        self.action_refresh()

    def action_prefer(self) -> None:
        report = self.selected()
        if report is not None:
            self.services.backends.set_preferred(report.name)
            self._say(f"{report.name} is now the preferred backend.")
            self.action_refresh()

    def action_add_custom(self) -> None:
        from lexitui.ui.screens.backend_form import BackendForm

        def added(result: tuple[str, str, str, str] | None) -> None:
            if result is None:
                return
            name, url, kind, key_env = result
            try:
                self.services.backends.add_custom(name, url, kind, key_env or None)
            except (InvalidBackendConfig, ValueError) as exc:
                self._say(str(exc), error=True)
                return
            self._say(f"Added {name} at {url}.")
            self.action_refresh()

        self.app.push_screen(BackendForm(), added)

    @work(exclusive=True, group="backends-remove")
    async def action_remove_custom(self) -> None:
        report = self.selected()
        if report is None:
            return
        try:
            await (await self.ready()).backends.remove_custom(report.name)
        except (InvalidBackendConfig, UnknownBackend, BackendError) as exc:
            self._say(str(exc), error=True)
            return
        self._say(f"Removed {report.name}.")
        self.action_refresh()

    def action_engine_log(self) -> None:
        from lexitui.ui.screens.engine_log import EngineLogScreen

        path = self.services.backends.managed.log_path
        if path is None:
            self._say("The embedded engine has not run yet: no log.", error=True)
            return
        self.app.push_screen(EngineLogScreen(path))

"""Backends: every inference server lexitui knows, its status, and the keys to manage them.

A thin view over ``BackendManager``: the table is built from ``reports()`` (one health probe per
backend) when the screen is shown and on ``r``; after that it follows the status stream live.
A transition updates its own row at once from the event, then that row is described again from
the last known health (no new probe, so a check never triggers another); each health check
refreshes its row's latency; a model loaded or unloaded in the Runtime area updates the managed
engine's row; an endpoint added here gets its row at once. Text from a backend is escaped by the
backend layer and shown through ``lexitui.ui.text`` here, so it can never style or move the
terminal.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.widgets import DataTable, Footer, Static

from lexitui.backends.errors import BackendError, InvalidBackendConfig, UnknownBackend
from lexitui.backends.health import HealthCheck
from lexitui.domain.backends import BackendHealth, BackendReport
from lexitui.domain.enums import BackendStatus
from lexitui.events import (
    BackendStatusChanged,
    Event,
    ModelLoaded,
    ModelLoadFailed,
    ModelLoadStarted,
    ModelUnloaded,
)
from lexitui.ui.shell.area_header import AreaHeader
from lexitui.ui.shell.area_screen import AreaScreen
from lexitui.ui.text import markup_safe
from lexitui.ui.widgets.fitted_table import FittedTable

RUNTIME_EVENTS = (ModelLoaded, ModelUnloaded, ModelLoadStarted, ModelLoadFailed)
COLUMNS = ("Name", "Status", "Endpoint", "Latency", "Models", "Reason")

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


def latency_cell(health: BackendHealth) -> str:
    return "" if health.latency_ms is None else f"{health.latency_ms:.0f} ms"


def row_cells(report: BackendReport, serving: str | None) -> tuple[str, ...]:
    models = "" if report.model_count is None else str(report.model_count)
    name = f"{markup_safe(report.name)}{' ★' if report.preferred else ''}"
    reason = report.health.message
    if serving and report.managed and report.health.up and serving not in reason:
        reason = f"serving {serving}; {reason}"
    return (
        name, status_cell(report), markup_safe(report.endpoint or "-"), latency_cell(report.health),
        models, markup_safe(reason, 600),
    )  # fmt: skip


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
        yield AreaHeader()
        yield Static("Inference backends", classes="area-title")
        yield FittedTable(
            flexible={"Endpoint", "Reason"},
            id="backends-table",
            cursor_type="row",
            zebra_stripes=True,
        )
        yield Static("", id="backends-detail")
        yield Static("Engines: probing…", id="backends-engines")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lexitui · Backends"
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)

    async def on_screen_resume(self) -> None:
        services = await self.ready()
        self.watch_stream(services.bus.of(BackendStatusChanged), self._on_status)
        self.watch_stream(services.backends.monitor.checks, self._on_check)
        self.watch_stream(services.bus.of(*RUNTIME_EVENTS), self._on_runtime)
        self.query_one(DataTable).focus()
        self.action_refresh()
        self.show_engines()

    @work(exclusive=True, group="backends-engines")
    async def show_engines(self) -> None:
        """The llama.cpp engines installed here and the devices each can use (probed once)."""
        import asyncio

        from lexitui.engine.devices import available_engines

        engines = await asyncio.to_thread(available_engines)
        lines = [markup_safe(e.summary(), 300) for e in engines] or ["none installed"]
        self.query_one("#backends-engines", Static).update(
            "[b]Engines:[/b] " + "\n         ".join(lines)
        )

    def _on_status(self, event: BackendStatusChanged) -> None:
        at = self._index(event.name)
        if at is not None:  # say it at once; versions and model counts follow
            old = self.reports[at]
            health = BackendHealth(event.new, old.health.latency_ms, event.message)
            with contextlib.suppress(UnknownBackend):
                endpoint = self.services.backends.get(event.name).endpoint
                self._put(replace(old, health=health, endpoint=endpoint))
        self.refresh_row(event.name)

    def _on_check(self, check: HealthCheck) -> None:
        table = self.query_one(DataTable)
        if check.name in table.rows and check.health.latency_ms is not None:
            table.update_cell(check.name, "Latency", latency_cell(check.health))

    def _on_runtime(self, _event: Event) -> None:
        self.refresh_row(self.services.backends.managed.name)

    def _serving(self) -> str | None:
        """The managed engine's own model (kept after a stop, so asked only while it runs)."""
        managed = self.services.backends.managed
        return managed.model_id if managed.running else None

    def _index(self, name: str) -> int | None:
        return next((i for i, r in enumerate(self.reports) if r.name == name), None)

    def _put(self, report: BackendReport) -> None:
        """Show ``report`` in its row, or in a new row at the end for a backend not shown yet."""
        table = self.query_one(DataTable)
        cells = row_cells(report, self._serving())
        at = self._index(report.name)
        if at is None:
            self.reports.append(report)
            table.add_row(*cells, key=report.name)
        elif report.name not in table.rows:  # the table is being rebuilt: that shows it
            self.reports[at] = report
        else:
            self.reports[at] = report
            for column, value in zip(COLUMNS, cells, strict=True):
                table.update_cell(report.name, column, value)
        chosen = self.selected()
        if chosen is not None and chosen.name == report.name:
            self._show_detail(chosen)

    def refresh_row(self, name: str) -> None:
        """Describe one backend again from what is known (no new probe)."""
        self.run_worker(self._refresh_row(name), group=f"backend-row-{name}", exclusive=True)

    async def _refresh_row(self, name: str) -> None:
        services = await self.ready()
        try:
            backend = services.backends.get(name)
        except UnknownBackend:
            return  # removed meanwhile
        report = await services.backends.report(backend, check=False)
        if self.is_mounted and self.is_attached:
            self._put(report)

    @work(exclusive=True, group="backends-refresh")
    async def action_refresh(self) -> None:
        services = await self.ready()
        self.reports = await services.backends.reports()
        with contextlib.suppress(NoMatches):  # the app quit while the backends were asked
            self._fill(self.query_one(DataTable))

    def _fill(self, table: DataTable[str]) -> None:
        row = table.cursor_row
        table.clear()
        for r in self.reports:
            table.add_row(*row_cells(r, self._serving()), key=r.name)
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
            self._show_detail(report)

    def _show_detail(self, report: BackendReport) -> None:
        self.query_one("#backends-detail", Static).update(
            f"[b]{markup_safe(report.name)}[/b] ({report.type.value}"
            f"{', ' + markup_safe(report.version) if report.version else ''}) "
            f"{status_cell(report)}: {markup_safe(report.health.message or 'no message', 600)}"
        )

    def _say(self, message: str, error: bool = False) -> None:
        self.notify(markup_safe(message, 600), severity="error" if error else "information")

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
        self._say(f"Starting the engine with {target}…")
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
        from lexitui.ui.backends.form import BackendForm

        def added(result: tuple[str, str, str, str] | None) -> None:
            if result is None:
                return
            name, url, kind, key_env = result
            try:
                backend = self.services.backends.add_custom(name, url, kind, key_env or None)
            except (InvalidBackendConfig, ValueError) as exc:
                self._say(str(exc), error=True)
                return
            self._say(f"Added {name} at {url}.")
            # Its row now; its status follows from the first check, which starts at once.
            checking = BackendHealth(BackendStatus.UNKNOWN, message="checking…")
            self._put(BackendReport(backend.name, backend.type, backend.endpoint, checking))
            self.refresh_row(name)

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
        from lexitui.ui.backends.engine_log import EngineLogScreen

        path = self.services.backends.managed.log_path
        if path is None:
            self._say("The engine has not run yet: no log.", error=True)
            return
        self.app.push_screen(EngineLogScreen(path))

"""Fleet: every configured host, one row each, and one row per GPU of a lexitui host, live.

A thin view over the routing service's ``Fleet``, which probes each host once a second in the
background: every second the screen reads the Fleet's last states (no I/O of its own) and keeps
each host's load over the last minute from the probes it saw. ``i`` (or Enter) opens everything a
host's status said. Loading, unloading and pulling models are done on the host's own machine:
its gateway takes no such orders, so the area offers no key for them and says so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker

from lexitui.fleet.host_state import HostState
from lexitui.ui.fleet.rows import COLUMNS, LoadHistory, table_rows
from lexitui.ui.shell.area_header import AreaHeader
from lexitui.ui.shell.area_screen import AreaScreen
from lexitui.ui.widgets.fitted_table import FittedTable

TICK_S = 1.0
EMPTY = (
    "No hosts yet. Add a machine running [b]lexitui serve[/b] (or a vLLM, llama-server or "
    "Ollama server) with\n  [b]lexitui host add NAME URL --key-env VAR[/b]\n"
    "(VAR names the environment variable holding its gateway key); it shows here from "
    "lexitui's next start."
)
REMOTE_ORDERS = (
    "[dim]Load, unload and pull models on a host from its own machine (lexitui run, "
    "lexitui pull there): its gateway takes no such orders.[/]"
)


class FleetScreen(AreaScreen):
    BINDINGS = [
        Binding("i", "details", "Host details", id="fleet.details"),
        Binding("r", "refresh", "Probe now", id="fleet.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__("fleet")
        self.history = LoadHistory()
        self.states: list[HostState] = []
        self._row_hosts: dict[str, str] = {}
        self._timer: Timer | None = None
        self._follower: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        yield AreaHeader()
        yield Static("Fleet: your hosts and their GPUs", classes="area-title")
        yield FittedTable(
            flexible={"Models"}, id="fleet-table", cursor_type="row", zebra_stripes=True
        )
        yield Static("Looking for hosts…", id="fleet-note")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lexitui · Fleet"
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)

    def on_screen_resume(self) -> None:
        self.query_one(DataTable).focus()
        # Textual can deliver ScreenResume twice for one showing: one follower is enough.
        if self._follower is None or self._follower.is_finished:
            self._follower = self.run_worker(self._follow(), group="fleet-follow")

    def on_screen_suspend(self) -> None:
        super().on_screen_suspend()
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.stop()

    async def _follow(self) -> None:
        services = await self.ready()
        await services.routing.start()  # starts the Fleet's probes (once)
        if not self.is_attached:
            return
        self._tick()
        if self._timer is None:
            self._timer = self.set_interval(TICK_S, self._tick)

    def _tick(self) -> None:
        fleet = self.services.fleet
        with contextlib.suppress(NoMatches):  # the app quit between two ticks
            self.show(fleet.states(), configured=len(fleet.providers))

    def show(self, states: Sequence[HostState], configured: int) -> None:
        """Put ``states`` in the table (rebuilt only when its rows change) and the note."""
        self.states = list(states)
        for state in states:
            self.history.observe(state)
        rows = table_rows(states, self.history)
        table = self.query_one(DataTable)
        keys = [key for key, _host, _cells in rows]
        if keys != [str(row.value) for row in table.rows]:
            at = table.cursor_row
            table.clear()
            for key, _host, cells in rows:
                table.add_row(*cells, key=key)
            if rows:
                table.move_cursor(row=min(at, len(rows) - 1))
        else:
            for key, _host, cells in rows:
                for column, value in zip(COLUMNS, cells, strict=True):
                    table.update_cell(key, column, value)
        self._row_hosts = {key: host for key, host, _cells in rows}
        note = self.query_one("#fleet-note", Static)
        if not configured:
            note.update(EMPTY)
        elif not states:
            note.update(f"Probing {configured} host{'s' if configured > 1 else ''}…")
        else:
            up = sum(s.healthy for s in states)
            note.update(
                f"{up} of {len(states)} hosts up; i or Enter: a host's details.\n{REMOTE_ORDERS}"
            )

    def selected(self) -> HostState | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        host = self._row_hosts.get(str(key))
        return next((s for s in self.states if s.name == host), None)

    def action_details(self) -> None:
        from lexitui.ui.fleet.details import HostDetailsScreen

        state = self.selected()
        if state is not None:
            self.app.push_screen(HostDetailsScreen(state))

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_details()

    async def action_refresh(self) -> None:
        services = await self.ready()
        await services.fleet.refresh()
        self._tick()

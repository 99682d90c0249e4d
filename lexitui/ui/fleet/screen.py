"""Fleet: every configured host, one row each, and one row per GPU of a lexitui host, live.

A thin view over the routing service's ``Fleet``, which probes each host once a second in the
background: every second the screen reads the Fleet's last states (no I/O of its own) and keeps
each host's load over the last minute from the probes it saw. ``i`` (or Enter) opens everything a
host's status said; ``l`` and ``u`` load and unload one of a lexitui host's models through its
gateway (``fleet.model_orders``), ``p`` asks it to pull a model (``fleet.model_pulls``): the host
queues the download and answers at once, and its details list its downloads.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from functools import partial

from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker

from lexitui.fleet.host_settings import LEXITUI, HostSpec
from lexitui.fleet.host_state import HostState
from lexitui.ui.fleet.rows import COLUMNS, LoadHistory, table_rows
from lexitui.ui.shell.area_header import AreaHeader
from lexitui.ui.shell.area_screen import AreaScreen
from lexitui.ui.text import markup_safe
from lexitui.ui.widgets.fitted_table import FittedTable

TICK_S = 1.0
EMPTY = (
    "No hosts yet. Add a machine running [b]lexitui serve[/b] (or a vLLM, llama-server or "
    "Ollama server) with\n  [b]lexitui host add NAME URL --key-env VAR[/b]\n"
    "(VAR names the environment variable holding its gateway key); it shows here from "
    "lexitui's next start."
)
REMOTE_ORDERS = "[dim]l loads, u unloads, p pulls a model on a lexitui host.[/]"


class FleetScreen(AreaScreen):
    BINDINGS = [
        Binding("i", "details", "Host details", id="fleet.details"),
        Binding("l", "order('load')", "Load model", id="fleet.load"),
        Binding("u", "order('unload')", "Unload model", id="fleet.unload"),
        Binding("p", "pull", "Pull model", id="fleet.pull"),
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
            flexible={"Host", "Models"}, id="fleet-table", cursor_type="row", zebra_stripes=True
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
        from lexitui.fleet.model_pulls import host_downloads
        from lexitui.ui.fleet.details import HostDetailsScreen

        state = self.selected()
        if state is not None:
            downloads = None
            if state.kind == LEXITUI and state.healthy:
                spec = self._spec(state.name)
                downloads = partial(host_downloads, spec)
            self.app.push_screen(HostDetailsScreen(state, downloads))

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_details()

    def _spec(self, host: str) -> HostSpec:
        return next(p.spec for p in self.services.fleet.providers if p.spec.name == host)

    def _order_taker(self) -> HostState | None:
        """The highlighted host if it is a lexitui host that is up; else says why not."""
        state = self.selected()
        if state is None:
            return None
        if state.kind != LEXITUI or not state.healthy:
            why = "is down" if not state.healthy else f"is a {state.kind} server"
            self.notify(
                markup_safe(f"{state.name} {why}: only a lexitui host that is up takes orders."),
                severity="error",
            )
            return None
        return state

    def action_pull(self) -> None:
        """Ask for REPO:QUANT, then ask the highlighted host to pull it."""
        from lexitui.ui.fleet.pull_dialog import PullDialog

        state = self._order_taker()
        if state is None:
            return

        def typed(spec: str | None) -> None:
            if spec is not None:
                self.run_worker(self._pull(state.name, spec), group="fleet-pull")

        self.app.push_screen(PullDialog(state.name), typed)

    async def _pull(self, host: str, model: str) -> None:
        from lexitui.fleet.model_orders import OrderFailed
        from lexitui.fleet.model_pulls import send_pull

        await self.ready()
        try:
            queued = await send_pull(self._spec(host), model)
        except OrderFailed as exc:
            self.notify(markup_safe(str(exc), 600), severity="error")
            return
        status = queued.get("status", "queued")
        self.notify(markup_safe(f"{host}: {model} {status} (download {queued.get('id')})."))

    def action_order(self, order: str) -> None:
        """Choose one of the highlighted host's models, then ask the host to load or unload it."""
        from lexitui.ui.fleet.model_choice import ModelChoiceScreen

        state = self._order_taker()
        if state is None:
            return
        if order == "load":
            models = [m for m in state.models if m not in state.loaded]
        else:
            models = list(state.loaded)
        if not models:
            none = "no installed model left to load" if order == "load" else "nothing loaded"
            self.notify(markup_safe(f"{state.name} has {none}."), severity="warning")
            return

        def chosen(model: str | None) -> None:
            if model is not None:
                self.run_worker(self._send(state.name, order, model), group=f"fleet-{order}")

        title = f"{order.capitalize()} on {state.name}"
        self.app.push_screen(ModelChoiceScreen(title, models), chosen)

    async def _send(self, host: str, order: str, model: str) -> None:
        from lexitui.fleet.model_orders import OrderFailed, send_order

        fleet = (await self.ready()).fleet
        spec = next(p.spec for p in fleet.providers if p.spec.name == host)
        self.notify(markup_safe(f"{order.capitalize()}ing {model} on {host}…"))
        try:
            loaded = await send_order(spec, order, model)
        except OrderFailed as exc:
            self.notify(markup_safe(str(exc), 600), severity="error")
            return
        shown = ", ".join(loaded) or "nothing"
        self.notify(markup_safe(f"{host} now has {shown} loaded."))
        await fleet.refresh()
        if self.is_attached:
            self._tick()

    async def action_refresh(self) -> None:
        services = await self.ready()
        if not services.fleet.providers:
            return  # nothing to probe: the empty state says how to add a host
        await services.fleet.refresh()
        self._tick()

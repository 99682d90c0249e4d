"""Dashboard: a one-glance summary of the machine, the models, the local LLM and its routing
(mix, savings, budgets, live requests), and what each area offers.

Everything sits in one scrolling column: at 160x48 it all shows at once, at 80x24 the machine
and the local LLM panels come first and the rest scrolls (arrow keys, PgUp/PgDn, Tab to the
area table). Nothing here reads on a timer: the routing panels read the store again when it says
``routed_requests`` changed (whichever process wrote, so requests served by ``lexitui serve``
appear here too), the models panel when ``installed_models`` did or a model was loaded, and the
Local LLM panel follows the inference events and the resource sampler's samples — each at most
every ``REREAD_S``.
"""

from __future__ import annotations

import contextlib
from functools import cached_property
from typing import TYPE_CHECKING, Any

from reactivex import Observable
from textual import events, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import DataTable, Footer, Static

from lexitui.areas import AREAS
from lexitui.config import ConfigError
from lexitui.domain.units import GIB
from lexitui.events import HardwareDetected
from lexitui.ui.dashboard.routing_panels import LIVE_ROWS, LocalLlmPanels
from lexitui.ui.routing.format import REREAD_S
from lexitui.ui.runtime.format import shown
from lexitui.ui.shell.area_header import AreaHeader
from lexitui.ui.shell.area_screen import AreaScreen
from lexitui.ui.streams import at_most_every, changes_of
from lexitui.ui.text import markup_safe
from lexitui.ui.widgets.fitted_table import FittedTable

if TYPE_CHECKING:
    from lexitui.domain.hardware import HardwareCapabilities

WIDE = 150  # from this many columns the four Local LLM panels sit in one row


class DashboardScreen(AreaScreen):
    AUTO_FOCUS = "#dash-body"
    FOOTER_AREA_KEYS = True

    def __init__(self) -> None:
        super().__init__(name="dashboard")
        # Built with the routing service (its records stream), once; kept so a second resume
        # finds the same stream and does not subscribe twice.
        self._routing_reads: Observable[Any] | None = None

    def compose(self) -> ComposeResult:
        yield AreaHeader()
        with VerticalScroll(id="dash-body"):
            with Horizontal(id="dash-top"):
                yield Static(id="dash-machine", classes="panel")
                yield Static(id="dash-models", classes="panel")
            yield LocalLlmPanels(id="dash-routing")
            with Vertical(id="dash-areas", classes="panel"):
                yield FittedTable(
                    flexible={"Status"}, id="areas-table", cursor_type="row", zebra_stripes=True
                )
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lexitui · Dashboard"
        table = self.query_one("#areas-table", DataTable)
        table.add_columns("Key", "Area", "Status")
        for item in AREAS:
            colour = "green" if item.built else "yellow"
            table.add_row(item.key, item.title, f"[{colour}]{item.status}[/]", key=item.mode)
        self.query_one("#dash-machine", Static).update("[b]Machine[/b]\nDetecting hardware…")
        self._fit(self.app.size.width)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        self.set_class(width >= WIDE, "-wide")

    def on_screen_resume(self) -> None:
        # The first frame paints before the services exist: they are subscribed to once ready.
        self.run_worker(self._follow_services(), group="dash-follow", exclusive=True)
        self.run_worker(self._show_models(), group="dash-models", exclusive=True)
        self.run_worker(self._watch_routing(), group="dash-routing", exclusive=True)

    async def _follow_services(self) -> None:
        services = await self.ready()
        if not self.is_current:
            return
        self.watch_stream(self._model_reads, self._on_models_changed)
        self.watch_stream(services.bus.of(HardwareDetected), self._on_hardware)
        if services.hardware.last is not None:
            self._show_machine(services.hardware.last)

    @cached_property
    def _model_reads(self) -> Observable[Any]:
        bus = self.services.bus
        return at_most_every(REREAD_S, bus.inference, changes_of(bus, {"installed_models"}))

    @cached_property
    def _local_reads(self) -> Observable[Any]:
        """What changes the Local LLM panel: loads and answers, and each resource sample."""
        return at_most_every(REREAD_S, self.services.bus.inference, self.services.resources.updates)

    def _on_models_changed(self, _event: object) -> None:
        self.run_worker(self._show_models(), group="dash-models", exclusive=True)

    # --- the Local LLM panels ---------------------------------------------------------------

    async def _watch_routing(self) -> None:
        # Imported here: the routing records are not needed for the first paint.
        from lexitui.ui.routing.data import routing_service

        services = await self.ready()
        try:
            service = await routing_service(services)
        except ConfigError as exc:
            self.query_one(LocalLlmPanels).show_error(f"[red]Routing is off: {shown(str(exc))}[/]")
            return
        if self.is_current:
            if self._routing_reads is None:
                # This process's requests (read at once, the recorder flushed first) and every
                # process's, as the store tells of them.
                changes = changes_of(services.bus, {"routed_requests"})
                self._routing_reads = at_most_every(REREAD_S, service.records, changes)
            self.watch_stream(self._routing_reads, self._on_routing_changed)
            self.watch_stream(self._local_reads, self._on_local_changed)
            self.refresh_routing()
            self.refresh_local()

    def _on_routing_changed(self, _event: object) -> None:
        self.refresh_routing()

    def _on_local_changed(self, _event: object) -> None:
        self.refresh_local()

    @work(exclusive=True, group="dash-routing-read")
    async def refresh_routing(self) -> None:
        """The mix, savings, budgets and live requests, from the store as it is now."""
        from lexitui.ui.routing.data import read_view

        services = await self.ready()
        if not services.started or not services.built("routing"):
            return
        panels = self.query_one(LocalLlmPanels)
        try:
            view = await read_view(services.routing, LIVE_ROWS)
        except Exception as exc:  # a store failure leaves the rest of the dashboard working
            panels.show_error(f"[red]{shown(str(exc))}[/]")
            return
        # Quitting may have taken the panels down while this read was awaited: drop the answer.
        with contextlib.suppress(NoMatches):
            panels.show(view)

    @work(exclusive=True, group="dash-local-read")
    async def refresh_local(self) -> None:
        """The local LLM's status and what it uses (no store read)."""
        services = await self.ready()
        if not services.started or not services.built("routing"):
            return
        try:
            status = await services.routing.local.get_status()
        except Exception as exc:  # a failed probe leaves the rest of the dashboard working
            with contextlib.suppress(NoMatches):
                self.query_one(LocalLlmPanels).show_error(f"[red]{shown(str(exc))}[/]")
            return
        with contextlib.suppress(NoMatches):
            self.query_one(LocalLlmPanels).show_local(status)

    def _on_hardware(self, _event: HardwareDetected) -> None:
        if self.services.hardware.last is not None:
            self._show_machine(self.services.hardware.last)

    def _show_machine(self, hw: HardwareCapabilities) -> None:
        cpu = hw.cpu
        if hw.gpus:
            names = sorted({markup_safe(g.name, 60) for g in hw.gpus})
            gpus = f"{len(hw.gpus)} x {', '.join(names)} ({hw.total_vram_bytes / GIB:.0f} GiB)"
        else:
            gpus = "none — CPU-only mode"
        best = hw.recommendation
        self.query_one("#dash-machine", Static).update(
            "[b]Machine[/b]\n"
            f"{markup_safe(f'{hw.operating_system} {hw.architecture} · {cpu.name}')}\n"
            f"CPU: {cpu.physical_cores} cores / {cpu.logical_cores} threads\n"
            f"RAM: {hw.available_ram_bytes / GIB:.1f} of {hw.total_ram_bytes / GIB:.1f} GiB free\n"
            f"GPUs: {gpus}\n"
            f"Fits: {best.max_recommended_size.value} at {best.recommended_quantization.value}"
            f" ({best.recommended_mode.value.replace('_', ' ')})"
        )

    async def _show_models(self) -> None:
        services = await self.ready()
        models = await services.registry.list()
        runtime = self.services.runtime
        active, loaded = runtime.active_model, runtime.loaded_models()
        lines = ["[b]Models[/b]", f"Installed: {len(models)}"]
        if active is None:
            lines.append("Loaded: none — press 7 to chat")
        else:
            others = f" (+{len(loaded) - 1} more)" if len(loaded) > 1 else ""
            lines.append(f"Loaded: {markup_safe(active.model.name)}{others}")
        lines += [f"  • {markup_safe(m.id, 120)}" for m in models[:4]]
        # The read awaits the store: the screen may have been torn down (a quit) meanwhile.
        with contextlib.suppress(NoMatches):
            self.query_one("#dash-models", Static).update("\n".join(lines))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.switch_mode(event.row_key.value)

"""Dashboard: a one-glance summary of the machine, the models, the local LLM and its routing
(mix, savings, budgets, live requests), and what each area offers.

Everything sits in one scrolling column: at 160x48 it all shows at once, at 80x24 the machine
and the local LLM panels come first and the rest scrolls (arrow keys, PgUp/PgDn, Tab to the
area table). The routing panels read the store every ``POLL_S`` while the dashboard is shown, so
requests served by ``lexitui serve`` in another process appear here too.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import DataTable, Footer, Header, Static

from lexitui.areas import AREAS
from lexitui.config import ConfigError
from lexitui.events import Event, HardwareDetected
from lexitui.ui.screens.base import AreaScreen
from lexitui.ui.screens.dashboard_routing import LIVE_ROWS, LocalLlmPanels
from lexitui.ui.screens.routing_format import POLL_S
from lexitui.ui.screens.runtime_format import shown
from lexitui.ui.text import markup_safe
from lexitui.ui.widgets.fitted_table import FittedTable

if TYPE_CHECKING:
    from lexitui.domain.hardware import HardwareCapabilities

GIB = 1024**3
WIDE = 150  # from this many columns the four Local LLM panels sit in one row


class DashboardScreen(AreaScreen):
    AUTO_FOCUS = "#dash-body"
    FOOTER_AREA_KEYS = True

    def __init__(self) -> None:
        super().__init__(name="dashboard")

    def compose(self) -> ComposeResult:
        yield Header()
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
        self.set_interval(POLL_S, self._tick)

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
        self.watch_stream(services.bus.inference, self._on_event)
        self.watch_stream(services.bus.hardware, self._on_hardware)
        if services.hardware.last is not None:
            self._show_machine(services.hardware.last)

    def _on_event(self, _event: Event) -> None:
        self.run_worker(self._show_models(), group="dash-models", exclusive=True)
        self.refresh_routing()

    # --- the Local LLM panels ---------------------------------------------------------------

    async def _watch_routing(self) -> None:
        # Imported here: the routing records are not needed for the first paint.
        from lexitui.ui.screens.routing_data import routing_service

        services = await self.ready()
        try:
            service = await routing_service(services)
        except ConfigError as exc:
            self.query_one(LocalLlmPanels).show_error(f"[red]Routing is off: {shown(str(exc))}[/]")
            return
        if self.is_current:
            self.watch_stream(service.records, self._on_record)
            self.refresh_routing()

    def _on_record(self, _record: object) -> None:
        self.refresh_routing()

    def _tick(self) -> None:
        if self.is_current and self.services.started and "routing" in self.services.__dict__:
            self.refresh_routing()

    @work(exclusive=True, group="dash-routing-read")
    async def refresh_routing(self) -> None:
        from lexitui.ui.screens.routing_data import read_view

        services = await self.ready()
        if not services.started or "routing" not in services.__dict__:
            return
        panels = self.query_one(LocalLlmPanels)
        service = services.routing
        try:
            view = await read_view(service, LIVE_ROWS)
            status = await service.local.get_status()
        except Exception as exc:  # a store failure leaves the rest of the dashboard working
            panels.show_error(f"[red]{shown(str(exc))}[/]")
            return
        # Quitting may have taken the panels down while this read was awaited: drop the answer.
        with contextlib.suppress(NoMatches):
            panels.show(view)
            panels.show_local(status)

    def _on_hardware(self, event: Event) -> None:
        if isinstance(event, HardwareDetected) and self.services.hardware.last is not None:
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
        self.query_one("#dash-models", Static).update("\n".join(lines))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.switch_mode(event.row_key.value)

"""Dashboard: a one-glance summary of the machine, the models, and what each area offers."""

from __future__ import annotations

import platform

import psutil
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Static

from lexitui.areas import AREAS
from lexitui.events import Event
from lexitui.ui.screens.base import AreaScreen

GIB = 1024**3


class DashboardScreen(AreaScreen):
    def __init__(self) -> None:
        super().__init__(name="dashboard")

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="dash-top"):
            yield Static(id="dash-machine", classes="panel")
            yield Static(id="dash-models", classes="panel")
        with Vertical(id="dash-areas", classes="panel"):
            yield DataTable(id="areas-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lexitui · Dashboard"
        table = self.query_one("#areas-table", DataTable)
        table.add_columns("Key", "Area", "Status")
        for item in AREAS:
            colour = "green" if item.built else "yellow"
            table.add_row(item.key, item.title, f"[{colour}]{item.status}[/]", key=item.mode)
        self._show_machine()

    async def on_screen_resume(self) -> None:
        self.watch_stream(self.services.bus.inference, self._on_event)
        self.run_worker(self._show_models(), group="dash-models", exclusive=True)

    def _on_event(self, _event: Event) -> None:
        self.run_worker(self._show_models(), group="dash-models", exclusive=True)

    def _show_machine(self) -> None:
        memory = psutil.virtual_memory()
        self.query_one("#dash-machine", Static).update(
            "[b]Machine[/b]\n"
            f"{platform.system()} {platform.machine()}\n"
            f"CPU: {psutil.cpu_count(logical=True)} threads\n"
            f"RAM: {memory.available / GIB:.1f} of {memory.total / GIB:.1f} GiB free\n"
            "GPUs: see the Hardware area (2)"
        )

    async def _show_models(self) -> None:
        services = await self.ready()
        models = await services.registry.list()
        loaded = self.services.runtime.loaded_model
        lines = ["[b]Models[/b]", f"Installed: {len(models)}"]
        lines.append(f"Loaded: {loaded.name}" if loaded else "Loaded: none — press 7 to chat")
        lines += [f"  • {m.id}" for m in models[:4]]
        self.query_one("#dash-models", Static).update("\n".join(lines))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.switch_mode(event.row_key.value)

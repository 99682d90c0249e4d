"""Dashboard: a one-glance summary of the machine, the models, and what each area offers."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Static

from lexitui.areas import AREAS
from lexitui.domain.hardware import HardwareCapabilities
from lexitui.events import Event, HardwareDetected
from lexitui.gguf.text import safe_text
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
        self.query_one("#dash-machine", Static).update("[b]Machine[/b]\nDetecting hardware…")

    async def on_screen_resume(self) -> None:
        self.watch_stream(self.services.bus.inference, self._on_event)
        self.watch_stream(self.services.bus.hardware, self._on_hardware)
        if self.services.hardware.last is not None:
            self._show_machine(self.services.hardware.last)
        self.run_worker(self._show_models(), group="dash-models", exclusive=True)

    def _on_event(self, _event: Event) -> None:
        self.run_worker(self._show_models(), group="dash-models", exclusive=True)

    def _on_hardware(self, event: Event) -> None:
        if isinstance(event, HardwareDetected) and self.services.hardware.last is not None:
            self._show_machine(self.services.hardware.last)

    def _show_machine(self, hw: HardwareCapabilities) -> None:
        cpu = hw.cpu
        if hw.gpus:
            names = sorted({g.name for g in hw.gpus})
            gpus = f"{len(hw.gpus)} x {', '.join(names)} ({hw.total_vram_bytes / GIB:.0f} GiB)"
        else:
            gpus = "none — CPU-only mode"
        best = hw.recommendation
        self.query_one("#dash-machine", Static).update(
            "[b]Machine[/b]\n"
            f"{hw.operating_system} {hw.architecture} · {cpu.name}\n"
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
            lines.append(f"Loaded: {escape(safe_text(active.model.name))}{others}")
        lines += [f"  • {m.id}" for m in models[:4]]
        self.query_one("#dash-models", Static).update("\n".join(lines))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.switch_mode(event.row_key.value)

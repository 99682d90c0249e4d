"""One GPU: what it is, its live VRAM/utilisation/temperature/power with history, its processes.

Detection gives the card its identity and process list; each monitor sample then updates the
readings. Process names come from the driver, so they are shown as plain text, never as markup.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from lexitui.domain.hardware import GpuInfo, GpuProcess
from lexitui.domain.samples import GpuSample, gpu_metric
from lexitui.domain.text import safe_text
from lexitui.domain.units import GIB
from lexitui.ui.text import markup_safe
from lexitui.ui.widgets.metric_row import MetricRow
from lexitui.ui.widgets.usage_bar import ALERT_AT

History = Callable[[str], tuple[float, ...]]
MAX_PROCESSES = 4


def describe_gpu(gpu: GpuInfo) -> str:
    parts = [gpu.supported_backend.value.upper()]
    if gpu.compute_capability:
        parts.append(f"compute {gpu.compute_capability}")
    if gpu.driver_version:
        parts.append(f"driver {safe_text(gpu.driver_version, 40)}")
    parts.append(f"{gpu.vram_bytes / GIB:.1f} GiB")
    if gpu.is_mig:
        parts.append("MIG slice")
    if gpu.is_integrated:
        parts.append("integrated (shares RAM)")
    return " · ".join(parts)


def describe_processes(processes: tuple[GpuProcess, ...]) -> Text:
    line = Text("Processes: ", style="bold")
    if not processes:
        line.append("none", style="dim")
        return line
    shown = []
    for p in processes[:MAX_PROCESSES]:
        name = p.name.rsplit("/", 1)[-1] or p.name
        memory = "" if p.used_memory_bytes is None else f" {p.used_memory_bytes / GIB:.1f} GiB"
        shown.append(f"{p.pid} {safe_text(name, 60)}{memory}")
    line.append(" · ".join(shown))
    if len(processes) > MAX_PROCESSES:
        line.append(f" · +{len(processes) - MAX_PROCESSES} more", style="dim")
    return line


class GpuCard(Vertical):
    def __init__(self, gpu: GpuInfo) -> None:
        super().__init__(classes="gpu-card")
        self.gpu = gpu
        self.border_title = markup_safe(f"{gpu.id} · {gpu.name}", 80)

    def compose(self) -> ComposeResult:
        yield Static(describe_gpu(self.gpu), classes="gpu-info", markup=False)
        yield MetricRow("VRAM", classes="gpu-vram")
        yield MetricRow("Util", warn=False, classes="gpu-util")
        yield MetricRow("Temp", classes="gpu-temp")
        yield MetricRow("Power", warn=False, classes="gpu-power")
        yield Static(describe_processes(self.gpu.processes), classes="gpu-processes")

    def on_mount(self) -> None:
        self.show_sample(GpuSample.of(self.gpu), lambda _metric: (), temp_alert_c=100.0)

    def show_sample(self, sample: GpuSample, history: History, *, temp_alert_c: float) -> None:
        def series(name: str) -> tuple[float, ...]:
            return history(gpu_metric(sample.id, name))

        total, free = sample.vram_total_bytes, sample.vram_free_bytes
        if free is None or total <= 0:
            vram_text, vram_fraction = f"?/{total / GIB:.1f} GiB", None
        else:
            used = total - free
            vram_text, vram_fraction = f"{used / GIB:.1f}/{total / GIB:.1f} GiB", used / total
        self.query_one(".gpu-vram", MetricRow).show(
            vram_text, vram_fraction, series("vram_used_percent")
        )
        util = sample.utilization_percent
        self.query_one(".gpu-util", MetricRow).show(
            "?" if util is None else f"{util:.0f} %",
            None if util is None else util / 100,
            series("utilization_percent"),
        )
        # Scaled so the alert temperature is where the bar turns red.
        temp, temp_scale = sample.temperature_c, temp_alert_c / ALERT_AT
        self.query_one(".gpu-temp", MetricRow).show(
            "?" if temp is None else f"{temp:.0f} °C",
            None if temp is None else temp / temp_scale,
            series("temperature_c"),
            ceiling=temp_scale,
        )
        power = sample.power_watts
        watts = series("power_watts")
        self.query_one(".gpu-power", MetricRow).show(
            "?" if power is None else f"{power:.0f} W",
            None,
            watts,
            ceiling=max(watts, default=0.0) * 1.25 or 1.0,
        )

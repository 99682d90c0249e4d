"""CPU, RAM and disk: the detection's facts plus the monitor's live load and memory."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from lexitui.domain.hardware import CpuInfo, HardwareCapabilities
from lexitui.domain.samples import HardwareSample
from lexitui.domain.text import safe_text
from lexitui.domain.units import GIB, MIB
from lexitui.ui.widgets.metric_row import MetricRow


def simd_flags(cpu: CpuInfo) -> str:
    flags = [
        name
        for name, present in (
            ("AVX", cpu.supports_avx),
            ("AVX2", cpu.supports_avx2),
            ("AVX-512", cpu.supports_avx512),
        )
        if present
    ]
    return " ".join(flags) or "no AVX"


def describe_cpu(caps: HardwareCapabilities) -> Text:
    cpu = caps.cpu
    l3 = f"{cpu.l3_cache_bytes // MIB} MiB" if cpu.l3_cache_bytes else "unknown"
    line = Text("CPU   ", style="bold")
    line.append(safe_text(cpu.name, 120))
    line.append(
        f" · {cpu.physical_cores} cores / {cpu.logical_cores} threads · SIMD {simd_flags(cpu)}"
        f" · L3 {l3} · {safe_text(f'{caps.operating_system} {caps.architecture}', 80)}"
    )
    return line


def describe_disk(caps: HardwareCapabilities) -> Text:
    line = Text("Disk  ", style="bold")
    line.append(f"{caps.available_disk_bytes / GIB:.1f} GiB free for models in ")
    line.append(safe_text(caps.model_storage_path, 400))
    return line


def ram_text(total: int, available: int) -> tuple[str, float | None]:
    if total <= 0:
        return "unknown", None
    used = total - available
    return f"{used / GIB:.1f}/{total / GIB:.1f} GiB", used / total


class SystemPanel(Vertical):
    def compose(self) -> ComposeResult:
        yield Static(id="hw-cpu")
        yield MetricRow("Load", warn=False, id="hw-cpu-load")
        yield MetricRow("RAM", id="hw-ram")
        yield Static(id="hw-disk")

    def on_mount(self) -> None:
        self.border_title = "System"

    def show_caps(self, caps: HardwareCapabilities) -> None:
        self.query_one("#hw-cpu", Static).update(describe_cpu(caps))
        self.query_one("#hw-disk", Static).update(describe_disk(caps))
        text, fraction = ram_text(caps.total_ram_bytes, caps.available_ram_bytes)
        self.query_one("#hw-ram", MetricRow).show(text, fraction)
        # The load is known only once the monitor has sampled; until then it says so.
        self.query_one("#hw-cpu-load", MetricRow).show("waiting", None)

    def show_sample(
        self, sample: HardwareSample, history: Callable[[str], tuple[float, ...]]
    ) -> None:
        self.query_one("#hw-cpu-load", MetricRow).show(
            f"{sample.cpu_percent:.0f} %", sample.cpu_percent / 100, history("cpu_percent")
        )
        text, fraction = ram_text(sample.ram_total_bytes, sample.ram_available_bytes)
        self.query_one("#hw-ram", MetricRow).show(text, fraction, history("ram_used_percent"))

"""The Fleet table's cells: a row per host, a sub-row per GPU of a lexitui host, and each host's
load (running + waiting) over the last minute as a fixed-scale history line.

Host text (names, models, reasons) comes from other machines: it goes through ``markup_safe``
so it can neither style nor move the terminal.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from rich.text import Text

from lexitui.fleet.host_state import HostGpu, HostState
from lexitui.ui.text import markup_safe
from lexitui.ui.widgets.usage_bar import history_line

GIB = 1024**3
# Host rows show the host's CPU and RAM under Util and Memory; GPU rows their GPU's.
COLUMNS = ("Host", "Health", "Util", "Memory", "Temp", "Run/Wait", "Load 1 min", "Models")
HISTORY = 60  # samples kept per host: one a probe, a probe a second
SPARK_WIDTH = 10  # each block the busiest of 6 seconds
MIN_CEILING = 4  # requests: a host answering one request does not draw as full


class LoadHistory:
    """Each host's running + waiting, one sample per probe the screen saw (a probe seen twice,
    same ``checked_at``, counts once)."""

    def __init__(self) -> None:
        self._samples: dict[str, deque[int]] = {}
        self._seen: dict[str, float] = {}

    def observe(self, state: HostState) -> None:
        if self._seen.get(state.name) == state.checked_at:
            return
        self._seen[state.name] = state.checked_at
        self.record(state.name, state.running + state.waiting if state.healthy else 0)

    def record(self, name: str, value: int) -> None:
        self._samples.setdefault(name, deque(maxlen=HISTORY)).append(value)

    def samples(self, name: str) -> list[int]:
        return list(self._samples.get(name, ()))

    def line(self, name: str, width: int = SPARK_WIDTH) -> Text:
        samples = self.samples(name)
        per_block = max(1, HISTORY // width)
        # The newest block ends with the newest sample; each block is the busiest of its span.
        blocks = [
            max(samples[max(0, end - per_block) : end])
            for end in range(len(samples), 0, -per_block)
        ][:width][::-1]
        return history_line(blocks, width, max(MIN_CEILING, *blocks, 0), warn=False)


def gib(used: int | None, total: int | None) -> str:
    if used is None or not total:
        return "-"
    digits = 0 if total >= 10 * GIB else 1  # "61/80 GiB": the table must fit 80 columns
    return f"{used / GIB:.{digits}f}/{total / GIB:.{digits}f} GiB"


def health_cell(state: HostState) -> str:
    """``up 3 ms`` or ``down`` (the reason is in the Models column then)."""
    if not state.healthy:
        return "[red]down[/]"
    latency = "" if state.latency_ms is None else f" {state.latency_ms:.0f} ms"
    return f"[green]up[/]{latency}"


def host_cells(state: HostState, history: LoadHistory) -> tuple[str | Text, ...]:
    """The host's own row: CPU and RAM for a lexitui host (its GPUs follow on their rows); the
    reason instead of the models when it is down."""
    cpu = "-" if state.cpu_percent is None else f"cpu {state.cpu_percent:.0f}%"
    ram = gib(state.ram_used_bytes, state.ram_total_bytes)
    if state.healthy:
        what = markup_safe(", ".join(state.loaded) or "none loaded", 300)
        load = f"{state.running}/{state.waiting}"
    else:
        what = f"[red]{markup_safe(state.reason, 300)}[/]"
        load = "-"
    return (
        f"[b]{markup_safe(state.name, 40)}[/b]", health_cell(state), cpu, ram, "-", load,
        history.line(state.name), what,
    )  # fmt: skip


def gpu_cells(gpu: HostGpu) -> tuple[str, ...]:
    util = "-" if gpu.utilization_percent is None else f"{gpu.utilization_percent:.0f}%"
    temp = "-" if gpu.temperature_c is None else f"{gpu.temperature_c:.0f}°C"
    vram = gib(gpu.vram_used_bytes, gpu.vram_total_bytes)
    return (f" └ {markup_safe(gpu.name, 40)}", "", util, vram, temp, "", "", "")


def table_rows(
    states: Sequence[HostState], history: LoadHistory
) -> list[tuple[str, str, tuple[str | Text, ...]]]:
    """(row key, host name, cells) in order: each host, then its GPUs."""
    rows: list[tuple[str, str, tuple[str | Text, ...]]] = []
    for state in states:
        rows.append((state.name, state.name, host_cells(state, history)))
        if state.healthy:
            for index, gpu in enumerate(state.gpus):
                rows.append((f"{state.name}\x00gpu{index}", state.name, gpu_cells(gpu)))
    return rows

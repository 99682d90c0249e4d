"""``lexitui hosts``: one row per host, then one per GPU of a lexitui host; ``--json`` gives
the same as a list of objects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lexitui.fleet.host_state import HostState

GIB = 1024**3


def host_rows(states: Sequence[HostState]) -> list[dict[str, Any]]:
    return [state.as_json() for state in states]


def render_hosts(states: Sequence[HostState]) -> str:
    if not states:
        return "no hosts: add one with lexitui host add NAME URL [--key-env VAR]"
    header = f"{'HOST':<16} {'KIND':<12} {'HEALTH':<8} {'LATENCY':>8} {'RUN':>4} {'WAIT':>4} "
    lines = [header + f"{'KV':>5}  MODELS / REASON"]
    for s in states:
        latency = "-" if s.latency_ms is None else f"{s.latency_ms:.0f} ms"
        kv = "-" if s.kv_used is None else f"{s.kv_used:.0%}"
        what = ", ".join(s.loaded or s.models) or "-" if s.healthy else s.reason
        health = "up" if s.healthy else "down"
        lines.append(
            f"{s.name:<16} {s.kind:<12} {health:<8} {latency:>8} {s.running:>4} {s.waiting:>4} "
            f"{kv:>5}  {what}"
        )
        for gpu in s.gpus:
            util = "-" if gpu.utilization_percent is None else f"{gpu.utilization_percent:.0f}%"
            temp = "-" if gpu.temperature_c is None else f"{gpu.temperature_c:.0f}°C"
            vram = (
                f"{gpu.vram_used_bytes / GIB:.1f}/{gpu.vram_total_bytes / GIB:.1f} GiB"
                if gpu.vram_used_bytes is not None and gpu.vram_total_bytes
                else "-"
            )
            lines.append(f"  └ {gpu.name:<28} util {util:>5}  VRAM {vram:<16} {temp}")
    return "\n".join(lines)

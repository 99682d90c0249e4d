"""The Fleet area over recorded host states (no probe runs): a lexitui host with two GPUs and
a minute of load, a vLLM host, and a host that is down with its reason; then a host's details,
with the downloads it lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from textual.pilot import Pilot
from textual.widgets import DataTable

from lexitui.config import Paths
from lexitui.fleet import model_pulls
from lexitui.fleet.fleet import Fleet
from lexitui.fleet.host_settings import HostSpec
from lexitui.fleet.host_state import HostEngine, HostGpu, HostState
from lexitui.ui.fleet.screen import FleetScreen
from tests.home_config import write_test_config
from tests.ui.test_snapshots import shoot
from tests.waiting import until

GIB = 1024**3
SIZES = [(80, 24), (120, 40)]
LOAD = [0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 6, 6, 5, 4, 3, 3, 2, 2, 1, 1] * 3
RECORDED = [
    HostState(
        "gpu-box-1", "lexitui", "http://10.0.0.5:8788", True, latency_ms=3.2, checked_at=1.0,
        running=2, waiting=1, kv_used=0.42, models=("qwen2.5-7b", "llama-3.1-8b", "smollm2"),
        loaded=("qwen2.5-7b", "llama-3.1-8b"),
        gpus=(
            HostGpu("NVIDIA H100 80GB HBM3", 87.0, 61 * GIB, 80 * GIB, 71.0),
            HostGpu("NVIDIA H100 80GB HBM3", 12.0, 9 * GIB, 80 * GIB, 44.0),
        ),
        engines=(
            HostEngine("qwen2.5-7b", "llama.cpp", "ready", 29, 0, 2, 118),
            HostEngine("llama-3.1-8b", "llama.cpp", "ready", 33, 0, 1, 40),
        ),
        cpu_percent=23.0, ram_used_bytes=41 * GIB, ram_total_bytes=251 * GIB,
    ),
    HostState(
        "vllm-rack", "vllm", "http://10.0.0.7:8000", True, latency_ms=5.9, checked_at=1.0,
        running=7, waiting=2, kv_used=0.8, models=("Qwen/Qwen2.5-72B",),
        loaded=("Qwen/Qwen2.5-72B",),
    ),
    HostState(
        "gpu-box-2", "lexitui", "http://10.0.0.6:8788", False,
        "connection refused or host unreachable", checked_at=1.0,
    ),
]  # fmt: skip


DOWNLOADS = [
    {"id": "d1", "model": "Qwen/Qwen3-8B-GGUF:Q4_K_M", "status": "downloading", "progress": 37.5},
    {
        "id": "d0",
        "model": "unsloth/gemma-3-4b-it-GGUF:Q8_0",
        "status": "completed",
        "progress": 100.0,
    },
]


@pytest.fixture
def recorded_fleet(lexitui_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hosts = "".join(f'[hosts.{s.name}]\nurl = "{s.url}"\nkind = "{s.kind}"\n' for s in RECORDED)
    write_test_config(Paths.from_env().config_file, hosts)

    async def no_probes(_fleet: Fleet) -> None:
        return None

    monkeypatch.setattr(Fleet, "start", no_probes)
    monkeypatch.setattr(Fleet, "states", lambda _fleet: list(RECORDED))

    async def recorded_downloads(_spec: HostSpec) -> list[dict[str, Any]]:
        return list(DOWNLOADS)

    monkeypatch.setattr(model_pulls, "host_downloads", recorded_downloads)


async def fleet_shown(pilot: Pilot[None]) -> FleetScreen:
    await pilot.press("9")
    screen = pilot.app.screen
    assert isinstance(screen, FleetScreen)
    await until(lambda: screen.query_one(DataTable).row_count == 5)
    for value in LOAD:  # a minute of samples, as the probes would have brought them
        screen.history.record("gpu-box-1", value)
        screen.history.record("vllm-rack", 9 - value)
    screen.show(RECORDED, configured=len(RECORDED))
    await pilot.pause()
    return screen


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_fleet_with_recorded_hosts(
    recorded_fleet: None, size: tuple[int, int], svg_snapshot: SnapshotAssertion
) -> None:
    async def go(pilot: Pilot[None]) -> None:
        await fleet_shown(pilot)

    assert svg_snapshot == shoot(size, go)


def test_a_hosts_details(recorded_fleet: None, svg_snapshot: SnapshotAssertion) -> None:
    async def go(pilot: Pilot[None]) -> None:
        await fleet_shown(pilot)
        await pilot.press("i")
        await until(
            lambda: "asking" not in str(pilot.app.screen.query_one("#host-downloads").render())
        )

    assert svg_snapshot == shoot((120, 40), go)

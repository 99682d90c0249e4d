"""``lexitui hosts``: a row per host, then one per GPU of a lexitui host; a down host shows why."""

from __future__ import annotations

from lexitui.fleet.host_output import render_hosts
from lexitui.fleet.host_state import HostGpu, HostState

GIB = 1024**3


def test_a_row_per_host_and_per_gpu() -> None:
    up = HostState(
        "gpu1", "lexitui", "http://10.0.0.5:8788", True, latency_ms=3.2, running=2, waiting=1,
        kv_used=0.4, loaded=("qwen",),
        gpus=(HostGpu("NVIDIA H100", 87.0, 60 * GIB, 80 * GIB, 71.0), HostGpu("NVIDIA H100")),
    )  # fmt: skip
    gone = HostState("gpu2", "lexitui", "http://10.0.0.6:8788", False, "no answer within 2 s")
    lines = render_hosts([up, gone]).splitlines()
    assert lines[1].split()[:7] == ["gpu1", "lexitui", "up", "3", "ms", "2", "1"]
    assert lines[1].endswith("40%  qwen")
    assert "NVIDIA H100" in lines[2] and "87%" in lines[2] and "60.0/80.0 GiB" in lines[2]
    assert "71°C" in lines[2] and lines[3].split()[-1] == "-"
    assert lines[4].split()[:3] == ["gpu2", "lexitui", "down"]
    assert lines[4].endswith("no answer within 2 s")


def test_no_hosts_says_how_to_add_one() -> None:
    assert "lexitui host add" in render_hosts([])

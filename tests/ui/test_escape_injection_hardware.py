"""Names from the machine's drivers and files (GPU, driver version, GPU processes, CPU model) are
shown as text on the Hardware and Dashboard screens."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import SelectionList, Static

from lexitui.config import Paths
from lexitui.hardware.nvml_recorded import RecordedNvml
from lexitui.ui.app import LexituiApp
from lexitui.ui.hardware.screen import HardwareScreen
from lexitui.ui.hardware.settings_dialog import HardwareSettingsScreen
from tests.ui.hardware_machine import FIXTURES, build_services
from tests.ui.hostile_text import (
    ATTACK,
    assert_shown_as_text,
    assert_terminal_safe,
    hostile,
    screen_text,
)
from tests.waiting import until


def hostile_machine(paths: Paths, tmp_path: Path) -> LexituiApp:
    recorded = json.loads((FIXTURES / "nvml_1_gpu_rtx4090.json").read_text())
    device = recorded["snapshots"][0]["devices"][0]
    device["name"] = hostile("GPU")
    # A process is shown by its file name (after the last "/"), so this one has none.
    process = "[$accent]PROC" + ATTACK.replace("/", "|")
    device["processes"] = [{"pid": 4242, "name": process, "used_memory_bytes": 2**30}]
    recorded["snapshots"][0]["driver_version"] = hostile("DRIVER")
    nvml = tmp_path / "nvml.json"
    nvml.write_text(json.dumps(recorded))
    cpuinfo = tmp_path / "cpuinfo"
    intel = (FIXTURES / "cpuinfo_intel_xeon_avx512.txt").read_text()
    cpuinfo.write_text(intel.replace("Intel(R) Xeon(R) Platinum 8480+", hostile("CPU")))
    services = build_services(
        paths, tmp_path / "root", RecordedNvml.from_file(nvml), cpuinfo=str(cpuinfo)
    )
    return LexituiApp(services)


async def test_hardware_names_are_shown_as_text(paths: Paths, tmp_path: Path) -> None:
    app = hostile_machine(paths, tmp_path)
    async with app.run_test(size=(220, 60)) as pilot:
        # Dashboard: the machine panel names the CPU and the GPUs.
        machine = app.screen.query_one("#dash-machine", Static)
        await until(lambda: "GPUs:" in str(machine.render()))
        await pilot.pause()
        assert_shown_as_text(app, "CPU", "GPU")
        assert_terminal_safe(app)

        await pilot.press("2")
        screen = app.screen
        assert isinstance(screen, HardwareScreen)
        await until(lambda: screen.shown is not None and screen.samples_shown > 0)
        await pilot.pause()
        # The GPU card's title, its driver line and process list; the system panel's CPU.
        assert_shown_as_text(app, "CPU", "GPU", "DRIVER")
        assert "[$accent]PROC\\x1b]0;PWNED" in screen_text(app)

        # The settings dialog lists the GPUs by name.
        await pilot.press("s")
        await until(lambda: isinstance(app.screen, HardwareSettingsScreen))
        await pilot.pause()
        gpus = app.screen.query_one("#hws-gpus", SelectionList)
        assert "[b]GPU[/b][$accent]\\x1b]0;PWNED" in str(gpus.get_option_at_index(0).prompt)
        assert_terminal_safe(app)
        assert_terminal_safe(app)

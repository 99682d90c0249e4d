"""The dashboard, fed with recorded hardware so its picture is the same on every machine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from textual._doc import take_svg_screenshot
from textual.pilot import Pilot
from textual.widgets import Static

from lexitui.config import Paths
from lexitui.hardware.detector import HardwareDetector
from lexitui.hardware.nvml_recorded import RecordedNvml
from lexitui.services import Services
from lexitui.ui.app import LexituiApp
from lexitui.ui.dashboard.screen import DashboardScreen
from lexitui.ui.routing import format as routing_format

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hardware"
GIB = 1024**3


def recorded_services(tmp_path: Path, nvml: str, cpuinfo: str) -> Services:
    root = tmp_path / "root"
    (root / "proc").mkdir(parents=True)
    shutil.copy(FIXTURES / cpuinfo, root / "proc" / "cpuinfo")
    detector = HardwareDetector(
        nvml=RecordedNvml.from_file(FIXTURES / nvml),
        root=root,
        system="linux",
        machine="x86_64",
        environ={},
        memory=lambda: (512 * GIB, 480 * GIB),
    )
    return Services.build(Paths.from_env(), hardware=detector)


async def wait_for_machine(pilot: Pilot[None]) -> None:
    """Until the machine and the Local LLM panels (read from the routing service) are shown."""
    screen = pilot.app.screen
    panels = [screen.query_one(f"#dash-{name}", Static) for name in ("machine", "mix", "local")]
    for _ in range(200):
        said = [str(panel.render()) for panel in panels]
        if "GPUs:" in said[0] and not any("Reading" in s for s in said[1:]):
            break
        await pilot.pause(0.05)
    await pilot.pause(0.1)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_dashboard_on_an_eight_gpu_server(
    size: tuple[int, int],
    tmp_path: Path,
    svg_snapshot: SnapshotAssertion,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The CPU load and this process's memory differ on every run; the picture must not.
    monkeypatch.setattr(routing_format, "measured", lambda _text: "RAM and CPU (vary)")
    services = recorded_services(tmp_path, "nvml_8x_h100.json", "cpuinfo_intel_xeon_avx512.txt")
    shot = take_svg_screenshot(
        app=LexituiApp(services),
        terminal_size=size,
        run_before=wait_for_machine,
    )
    assert svg_snapshot == shot


async def test_dashboard_says_cpu_only_when_there_is_no_gpu(tmp_path: Path) -> None:
    services = recorded_services(tmp_path, "nvml_no_driver.json", "cpuinfo_amd_epyc_avx2.txt")
    app = LexituiApp(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_machine(pilot)
        text = str(app.screen.query_one("#dash-machine", Static).render())
    assert "GPUs: none — CPU-only mode" in text
    assert "AMD EPYC" in text
    assert "480.0 of 512.0 GiB free" in text
    assert "cpu only" in text


async def test_models_read_that_ends_after_the_panel_is_gone_shows_nothing(
    tmp_path: Path,
) -> None:
    # A quit can tear the dashboard down while its models panel is reading the store: the read
    # then has nowhere to show its lines, and must not fail the app.
    services = recorded_services(tmp_path, "nvml_no_driver.json", "cpuinfo_amd_epyc_avx2.txt")
    app = LexituiApp(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_machine(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await screen.query_one("#dash-models", Static).remove()
        await screen._show_models()

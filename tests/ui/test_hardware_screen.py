"""The Hardware screen over recorded machines: pictures, live readings, re-detection, alerts."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from textual._doc import take_svg_screenshot
from textual.pilot import Pilot
from textual.widgets import Static

from lexitui.config import Paths
from lexitui.domain.samples import gpu_metric
from lexitui.engine import devices as engine_devices
from lexitui.events import HardwareChanged
from lexitui.hardware.nvml_recorded import RecordedNvml
from lexitui.hardware.nvml_snapshot import NvmlSnapshot
from lexitui.hardware.settings import HardwareSettings
from lexitui.ui.app import LexituiApp
from lexitui.ui.hardware.screen import DETECTING, HardwareScreen
from lexitui.ui.widgets.gpu_card import GpuCard
from lexitui.ui.widgets.metric_row import MetricRow
from tests.hardware.test_engine_devices import recorded
from tests.ui.hardware_machine import FIXTURES, Machine, hardware_app
from tests.waiting import until

MACHINES = {
    "no_gpu": "nvml_no_driver.json",
    "one_gpu": "nvml_1_gpu_rtx4090.json",
    "eight_gpus": "nvml_8x_h100.json",
}
SIZES = [(80, 24), (160, 48)]


async def open_hardware(pilot: Pilot[None]) -> HardwareScreen:
    """Switch to the area and wait until detection and the first sample are drawn."""
    await pilot.press("2")
    screen = pilot.app.screen
    assert isinstance(screen, HardwareScreen)
    await until(lambda: screen.shown is not None and screen.samples_shown > 0)
    await pilot.pause()
    return screen


def text_of(screen: HardwareScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def shoot(app: LexituiApp, size: tuple[int, int], *keys: str) -> str:
    async def go(pilot: Pilot[None]) -> None:
        await open_hardware(pilot)
        pilot.app.clear_notifications()  # alerts have their own test; keep the page visible
        await pilot.press(*keys)
        await pilot.pause()

    return take_svg_screenshot(app=app, terminal_size=size, run_before=go)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("machine", list(MACHINES))
def test_hardware_screen(
    machine: str,
    size: tuple[int, int],
    paths: Paths,
    tmp_path: Path,
    svg_snapshot: SnapshotAssertion,
) -> None:
    assert svg_snapshot == shoot(hardware_app(paths, tmp_path / "root", MACHINES[machine]), size)


def test_fit_table_reads_at_80x24(
    paths: Paths, tmp_path: Path, svg_snapshot: SnapshotAssertion
) -> None:
    app = hardware_app(paths, tmp_path / "root", MACHINES["one_gpu"])
    assert svg_snapshot == shoot(app, (80, 24), "end")


def test_settings_form_at_80x24(
    paths: Paths, tmp_path: Path, svg_snapshot: SnapshotAssertion
) -> None:
    app = hardware_app(paths, tmp_path / "root", "nvml_2_gpus_a100.json")
    assert svg_snapshot == shoot(app, (80, 24), "s")


class HeldNvml:
    """Recorded readings that wait for the test to let detection finish."""

    def __init__(self, name: str) -> None:
        self.inner = RecordedNvml.from_file(FIXTURES / name)
        self.go = threading.Event()

    def read(self, *, processes: bool = True) -> NvmlSnapshot:
        self.go.wait(10)
        return self.inner.read(processes=processes)

    def close(self) -> None:
        self.inner.close()


async def listening(pilot: Pilot[None], nvml: HeldNvml) -> HardwareScreen:
    """Show the screen, wait until it listens to the services, then let detection run."""
    await pilot.press("2")
    screen = pilot.app.screen
    assert isinstance(screen, HardwareScreen)
    await until(lambda: len(screen._subscriptions) == 3)  # samples, detection, changes
    await pilot.pause(0.2)
    nvml.go.set()
    return screen


async def test_says_detecting_and_shows_no_figures_until_detection_ends(
    paths: Paths, tmp_path: Path
) -> None:
    nvml = HeldNvml("nvml_1_gpu_rtx4090.json")
    app = hardware_app(paths, tmp_path / "root", nvml)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("2")
            await pilot.pause(0.2)
            screen = app.screen
            assert isinstance(screen, HardwareScreen)
            assert text_of(screen, "#hw-status") == DETECTING
            assert not screen.query_one("#hw-details").display
            assert not screen.query(GpuCard)
            nvml.go.set()
            await until(lambda: screen.shown is not None)
            assert "NVIDIA GeForce RTX 4090" in text_of(screen, "#hw-status")
            assert len(screen.query(GpuCard)) == 1
    finally:
        nvml.go.set()


async def test_history_lines_grow_with_each_sample(paths: Paths, tmp_path: Path) -> None:
    machine = Machine(cpu_percent=12.5)
    app = hardware_app(paths, tmp_path / "root", MACHINES["one_gpu"], machine=machine)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_hardware(pilot)
        util = screen.query_one(".gpu-util", MetricRow)
        load = screen.query_one("#hw-cpu-load", MetricRow)
        assert util.history == (3.0,) and load.history == (12.5,)
        machine.cpu_percent = 80.0
        await app.services.monitor.sample_once()
        await app.services.monitor.sample_once()
        await until(lambda: screen.samples_shown >= 3)
        assert list(load.history) == [12.5, 80.0, 80.0] and load.value == "80 %"
        assert util.history == app.services.monitor.history(
            gpu_metric("nvidia:0", "utilization_percent")
        )
        assert len(util.history) == 3


async def test_refresh_key_detects_again(paths: Paths, tmp_path: Path) -> None:
    machine = Machine(disk_free_gib=812)
    app = hardware_app(paths, tmp_path / "root", MACHINES["one_gpu"], machine=machine)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_hardware(pilot)
        assert "812.0 GiB free" in text_of(screen, "#hw-disk")
        asked = len(machine.disk_asked)
        machine.disk_free_gib = 100
        await pilot.press("r")
        await until(lambda: "100.0 GiB free" in text_of(screen, "#hw-disk"))
        assert len(machine.disk_asked) == asked + 1


def toasts(app: LexituiApp) -> list[str]:
    return [str(toast.render()) for toast in app.screen.query("Toast")]


@pytest.mark.parametrize(("low_percent", "alerts"), [(10.0, 4), (5.0, 0)])
async def test_vram_low_from_the_monitor_is_a_notification(
    paths: Paths, tmp_path: Path, low_percent: float, alerts: int
) -> None:
    # GPUs 0-3 of this recording have 9% of their VRAM free.
    settings = HardwareSettings(sample_interval_s=3600, vram_low_percent=low_percent)
    nvml = HeldNvml(MACHINES["eight_gpus"])
    app = hardware_app(paths, tmp_path / "root", nvml, settings=settings)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await listening(pilot, nvml)  # the first sample's alerts must not come before that
        await open_hardware(pilot)
        await pilot.pause(0.1)
        low = [t for t in toasts(app) if "of VRAM free" in t]
        assert len(low) == alerts
        assert all("NVIDIA H100 80GB HBM3: 9% of VRAM free" in t for t in low)


async def test_a_published_change_is_shown_while_the_screen_is_up(
    paths: Paths, tmp_path: Path
) -> None:
    app = hardware_app(paths, tmp_path / "root", MACHINES["one_gpu"])
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await open_hardware(pilot)
        message = "low memory: NVIDIA GeForce RTX 4090: 3% of VRAM free"
        app.services.bus.publish(HardwareChanged("vram_low", "nvidia:0", message))
        await until(lambda: any(message in t for t in toasts(app)))
        await pilot.press("1")  # another area: the hardware screen no longer listens
        app.clear_notifications()
        app.services.bus.publish(HardwareChanged("temp_alert", "nvidia:0", "hot GPU"))
        await pilot.pause(0.2)
        assert not any("hot GPU" in t for t in toasts(app))


async def test_a_vanished_gpu_is_announced_and_its_card_goes(paths: Paths, tmp_path: Path) -> None:
    nvml = HeldNvml("nvml_gpu_vanishes.json")  # two GPUs at detection, one at the first sample
    app = hardware_app(paths, tmp_path / "root", nvml)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = await listening(pilot, nvml)
        await until(lambda: any("GPU removed" in t for t in toasts(app)))
        await until(lambda: [c.gpu.id for c in screen.query(GpuCard)] == ["nvidia:0"])


async def test_an_engine_without_gpu_support_is_said_not_hidden(
    paths: Paths, tmp_path: Path
) -> None:
    """One GPU, a CPU build of llama.cpp: the engine line says CPU only, one line says the GPU
    goes unused, and the recommendation plans on the CPU."""
    engine_devices.use_recorded((recorded("xllamacpp_devices_cpu.json"),))
    app = hardware_app(paths, tmp_path / "root", MACHINES["one_gpu"])
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_hardware(pilot)
        status = text_of(screen, "#hw-status")
        assert "Engine: embedded llama.cpp recorded: CPU only: CPU (AMD EPYC" in status
        assert status.count("this machine's GPU is not used") == 1
        assert "on the CPU" in text_of(screen, "#hw-rec-summary")
        assert "engine cannot use this machine's GPU" in text_of(screen, "#hw-explanation")

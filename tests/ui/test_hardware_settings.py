"""The hardware settings form: saves valid values and applies them live; refuses bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, SelectionList, Static

from lexitui.config import Paths
from lexitui.domain.enums import ModelSizeCategory
from lexitui.domain.hardware import GpuInfo
from lexitui.hardware.settings import (
    HardwareSettingsError,
    load_hardware_settings,
)
from lexitui.ui.hardware.screen import HardwareScreen
from lexitui.ui.hardware.settings_dialog import HardwareSettingsScreen, allowed_from_choice
from lexitui.ui.widgets.gpu_card import GpuCard
from tests.ui.hardware_machine import hardware_app
from tests.waiting import until

ONE_GPU = "nvml_1_gpu_rtx4090.json"


async def open_form(pilot: Pilot[None]) -> tuple[HardwareScreen, HardwareSettingsScreen]:
    app = pilot.app
    await pilot.press("2")
    screen = app.screen
    assert isinstance(screen, HardwareScreen)
    await until(lambda: screen.shown is not None)
    await pilot.press("s")
    await until(lambda: isinstance(app.screen, HardwareSettingsScreen))
    form = app.screen
    assert isinstance(form, HardwareSettingsScreen)
    await pilot.pause()
    return screen, form


def field(form: HardwareSettingsScreen, key: str) -> Input:
    return form.query_one(f"#hws-{key}", Input)


def summary(screen: HardwareScreen) -> str:
    return str(screen.query_one("#hw-rec-summary", Static).render())


async def test_saved_settings_are_written_and_change_the_recommendation(
    paths: Paths, tmp_path: Path
) -> None:
    app = hardware_app(paths, tmp_path / "root", ONE_GPU)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, form = await open_form(pilot)
        before = screen.shown
        assert before is not None
        assert before.recommendation.max_recommended_size is ModelSizeCategory.LARGE
        assert summary(screen).startswith("Recommended: large models")
        # Keep 12 GiB of the 24 GiB card free: a 32B model no longer fits on it.
        field(form, "vram_headroom_mb").value = "12288"
        field(form, "temp_alert_c").value = "80"
        await pilot.press("ctrl+s")
        await until(lambda: isinstance(app.screen, HardwareScreen))
        await until(
            lambda: (
                screen.shown is not before and not summary(screen).startswith("Recommended: large")
            )
        )
        saved = load_hardware_settings(paths)
        assert saved.vram_headroom_mb == 12288 and saved.temp_alert_c == 80.0
        assert saved.sample_interval_s == 3600  # untouched fields keep their values
        assert app.services.hardware.settings == saved
        assert app.services.monitor.settings == saved
        after = screen.shown
        assert after is not None
        assert after.recommendation.max_recommended_size is ModelSizeCategory.MEDIUM
        assert "after 12288 MiB headroom" in (after.recommendation.explanation or "")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("temp_alert_c", "500", "temp_alert_c must be between 30 and 130, got 500.0"),
        ("gpu_layers_policy", "lots", 'gpu_layers_policy must be "auto", "all", "none"'),
        ("sample_interval_s", "", "sample_interval_s must be a number, got ''"),
    ],
)
async def test_bad_values_are_shown_and_nothing_is_saved(
    paths: Paths, tmp_path: Path, key: str, value: str, message: str
) -> None:
    app = hardware_app(paths, tmp_path / "root", ONE_GPU)
    saved = paths.config_file.read_bytes()  # the test home's own config
    async with app.run_test(size=(80, 24)) as pilot:
        _screen, form = await open_form(pilot)
        before = app.services.hardware.settings
        field(form, key).value = value
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form, "the form stays open to fix the value"
        error = form.query_one("#hws-error", Static)
        assert message in str(error.render()) and error.has_class("error")
        assert paths.config_file.read_bytes() == saved
        assert app.services.hardware.settings is before
        await pilot.press("escape")
        await until(lambda: isinstance(app.screen, HardwareScreen))
        assert paths.config_file.read_bytes() == saved


async def test_allowing_one_of_two_gpus_leaves_one_card(paths: Paths, tmp_path: Path) -> None:
    app = hardware_app(paths, tmp_path / "root", "nvml_2_gpus_a100.json")
    async with app.run_test(size=(120, 40)) as pilot:
        screen, form = await open_form(pilot)
        assert len(screen.query(GpuCard)) == 2
        form.query_one("#hws-gpus", SelectionList).deselect("nvidia:1")
        await pilot.press("ctrl+s")
        await until(lambda: [c.gpu.id for c in screen.query(GpuCard)] == ["nvidia:0"])
        assert load_hardware_settings(paths).allowed_gpus == ("nvidia:0",)
        shown = screen.shown
        assert shown is not None
        assert any("left out by hardware.allowed_gpus" in n for n in shown.probe_notes)


async def test_escape_cancels_without_saving(paths: Paths, tmp_path: Path) -> None:
    app = hardware_app(paths, tmp_path / "root", ONE_GPU)
    saved = paths.config_file.read_bytes()  # the test home's own config
    async with app.run_test(size=(80, 24)) as pilot:
        _screen, form = await open_form(pilot)
        field(form, "vram_headroom_mb").value = "2048"
        await pilot.press("escape")
        await until(lambda: isinstance(app.screen, HardwareScreen))
        assert paths.config_file.read_bytes() == saved
        assert app.services.hardware.settings.vram_headroom_mb == 1024


def gpu(gpu_id: str) -> GpuInfo:
    from lexitui.domain.enums import GpuBackend, GpuVendor

    return GpuInfo(gpu_id, "Test GPU", GpuVendor.NVIDIA, 8 * 1024**3, GpuBackend.CUDA)


def test_gpu_choice_maps_to_allowed_gpus() -> None:
    found = [gpu("nvidia:0"), gpu("nvidia:1")]
    assert allowed_from_choice(["nvidia:0", "nvidia:1"], found) == ()  # all ticked: any GPU
    assert allowed_from_choice(["nvidia:1"], found) == ("nvidia:1",)
    assert allowed_from_choice([], []) == ()
    with pytest.raises(HardwareSettingsError, match="tick at least one GPU"):
        allowed_from_choice([], found)


async def test_help_lists_the_hardware_keys(paths: Paths, tmp_path: Path) -> None:
    from textual.widgets import DataTable

    from lexitui.ui.shell.help import HelpScreen

    app = hardware_app(paths, tmp_path / "root", ONE_GPU)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2", "question_mark")
        await until(lambda: isinstance(app.screen, HelpScreen))
        table = app.screen.query_one(DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        ids = {str(row[3]): (str(row[0]), str(row[1])) for row in rows}
        assert ids["hardware.refresh"] == ("Hardware", "r")
        assert ids["hardware.settings"] == ("Hardware", "s")
        assert ids["hardware_settings.save"] == ("HW settings", "ctrl+s")

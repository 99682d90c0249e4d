"""Loading on a GPU machine whose llama.cpp engine runs on the CPU only: the load dialog's estimate
and ``lexitui run`` plan no GPU layers and say, once, why the GPU goes unused."""

from __future__ import annotations

from pathlib import Path

import pytest

from lexitui.commands.runtime import _warn_unused_gpu
from lexitui.config import Paths
from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.hardware import HardwareCapabilities
from lexitui.engine import devices as engine_devices
from lexitui.runtime.footprint import estimate_footprint
from lexitui.ui.runtime.load_dialog import fit_text
from tests.discovery.test_compatibility import recorded_machine
from tests.hardware.test_engine_devices import recorded
from tests.ui.hardware_machine import build_services

NOTE = "the installed llama.cpp engine runs on the CPU only: this machine's GPU is not used"
ALL_LAYERS = ModelLoadOptions(gpu_layers=-1, context_length=2048)


@pytest.fixture
async def rtx4090(tmp_path: Path) -> HardwareCapabilities:
    return await recorded_machine(tmp_path, "nvml_1_gpu_rtx4090.json", 64)


async def test_the_load_estimate_plans_the_cpu_and_says_why(
    rtx4090: HardwareCapabilities, starter_path: Path
) -> None:
    engine_devices.use_recorded((recorded("xllamacpp_devices_cpu.json"),))
    footprint = await estimate_footprint(starter_path, ALL_LAYERS, rtx4090)
    assert (footprint.gpu_layers, footprint.vram_bytes) == (0, 0)
    assert footprint.engine_note is not None and footprint.engine_note.startswith(NOTE)
    assert fit_text(footprint).plain.count(NOTE) == 1


async def test_a_gpu_engine_keeps_the_gpu_plan(
    rtx4090: HardwareCapabilities, starter_path: Path
) -> None:
    engine_devices.use_recorded((recorded("xllamacpp_devices_cuda.json"),))
    footprint = await estimate_footprint(starter_path, ALL_LAYERS, rtx4090)
    assert footprint.gpu_layers > 0 and footprint.vram_bytes > 0
    assert footprint.engine_note is None and "GPU build" not in fit_text(footprint).plain


@pytest.mark.parametrize(
    ("nvml", "engine", "said"),
    [
        ("nvml_1_gpu_rtx4090.json", "xllamacpp_devices_cpu.json", True),
        ("nvml_1_gpu_rtx4090.json", "xllamacpp_devices_cuda.json", False),
        ("nvml_0_gpus.json", "xllamacpp_devices_cpu.json", False),
    ],
)
async def test_run_says_it_once_on_stderr(
    paths: Paths,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    nvml: str,
    engine: str,
    said: bool,
) -> None:
    engine_devices.use_recorded((recorded(engine),))
    services = build_services(paths, tmp_path / "root", nvml)
    await services.hardware.detect()
    _warn_unused_gpu(services)
    services.hardware.close()
    err = capsys.readouterr().err
    assert err.count(NOTE) == (1 if said else 0)
    assert err.count("\n") == (1 if said else 0)

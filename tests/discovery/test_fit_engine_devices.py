"""Plans use the engine that will really run: a GPU the installed llama.cpp cannot drive gets no
layers, and ``lexitui fit`` says so once, with what fixes it."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from lexitui.commands.fit import cmd_fit
from lexitui.discovery.compatibility import CompatibilityAnalyzer
from lexitui.discovery.model_facts import ModelFacts
from lexitui.discovery.registry import ModelRegistry
from lexitui.discovery.service import DiscoveryService
from lexitui.domain.discovery import ModelVariant, RemoteModel
from lexitui.domain.downloads import ModelDownload
from lexitui.domain.enums import InferenceMode, ModelRegistryType
from lexitui.domain.hardware import HardwareCapabilities
from lexitui.engine import devices as engine_devices
from lexitui.engine.kinds import EMBEDDED_KIND, EngineKind
from lexitui.engine.select import resolve_engine
from lexitui.engine.settings import LLAMA_SERVER
from lexitui.events import EventBus
from lexitui.gguf import read_local_header
from lexitui.hardware.unused_gpu import unused_gpu_note
from tests.discovery.test_compatibility import fit_args, recorded_machine
from tests.hardware.test_engine_devices import recorded

NOTE = "the installed llama.cpp engine runs on the CPU only"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "hardware"


@pytest.fixture
async def rtx4090(tmp_path: Path) -> HardwareCapabilities:
    caps = await recorded_machine(tmp_path, "nvml_1_gpu_rtx4090.json", 64)
    assert len(caps.gpus) == 1
    return caps


@pytest.fixture
async def no_gpu(tmp_path: Path) -> HardwareCapabilities:
    return await recorded_machine(tmp_path, "nvml_0_gpus.json", 16)


def use(fixture: str) -> None:
    engine_devices.use_recorded((recorded(fixture),))


def plan_mode(caps: HardwareCapabilities, starter_path: Path) -> tuple[InferenceMode, int]:
    facts = ModelFacts.from_gguf_header(read_local_header(starter_path))
    plan = CompatibilityAnalyzer(caps).plan(facts)
    return plan.mode, plan.breakdown.gpu_layers


def test_a_gpu_and_a_cuda_engine_plan_on_the_gpu(
    rtx4090: HardwareCapabilities, starter_path: Path
) -> None:
    use("xllamacpp_devices_cuda.json")
    mode, layers = plan_mode(rtx4090, starter_path)
    assert mode is InferenceMode.FULL_GPU and layers > 0
    assert unused_gpu_note(rtx4090.gpus) is None


def test_a_gpu_and_a_cpu_engine_plan_on_the_cpu(
    rtx4090: HardwareCapabilities, starter_path: Path
) -> None:
    use("xllamacpp_devices_cpu.json")
    mode, layers = plan_mode(rtx4090, starter_path)
    assert (mode, layers) == (InferenceMode.CPU_ONLY, 0)
    note = unused_gpu_note(rtx4090.gpus)
    assert note is not None and note.startswith(NOTE)


def test_no_gpu_plans_on_the_cpu_without_a_note(
    no_gpu: HardwareCapabilities, starter_path: Path
) -> None:
    use("xllamacpp_devices_cpu.json")
    assert plan_mode(no_gpu, starter_path) == (InferenceMode.CPU_ONLY, 0)
    assert unused_gpu_note(no_gpu.gpus) is None


async def test_fit_says_once_that_the_gpu_goes_unused(
    rtx4090: HardwareCapabilities, starter_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def detect() -> HardwareCapabilities:
        return rtx4090

    use("xllamacpp_devices_cpu.json")
    assert await cmd_fit(fit_args(str(starter_path), gpu_layers=20), detect=detect) == 0
    text = capsys.readouterr().out
    assert text.count("GPU") >= 1 and text.count(NOTE) == 1
    assert "no GPU that can hold weights" not in text  # the note says it, once
    assert "Mode     cpu_only, 0 GPU layers" in text
    assert await cmd_fit(fit_args(str(starter_path), json=True), detect=detect) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["engine_note"].startswith(NOTE)
    assert (data["recommended_mode"], data["recommended_gpu_layers"]) == ("cpu_only", 0)
    assert data["breakdown"]["total_vram_bytes"] == 0

    use("xllamacpp_devices_cuda.json")
    assert await cmd_fit(fit_args(str(starter_path)), detect=detect) == 0
    text = capsys.readouterr().out
    assert NOTE not in text and "Mode     full_gpu" in text


async def test_discover_badges_plan_with_the_engine_that_will_run(
    rtx4090: HardwareCapabilities,
) -> None:
    async def hardware() -> HardwareCapabilities:
        return rtx4090

    async def no_downloads(model: RemoteModel, variant: ModelVariant) -> ModelDownload:
        raise AssertionError("a badge downloads nothing")

    service = DiscoveryService(
        registries=[cast(ModelRegistry, SimpleNamespace(type=ModelRegistryType.HUGGING_FACE))],
        hardware=hardware,
        start_download=no_downloads,
        bus=EventBus(),
    )
    model = RemoteModel(
        "org/model-8B", "model-8B", ModelRegistryType.HUGGING_FACE, parameter_count="8B"
    )
    try:
        use("xllamacpp_devices_cuda.json")
        on_gpu = await service.badge(model)
        use("xllamacpp_devices_cpu.json")
        on_cpu = await service.badge(model)
    finally:
        await service.close()
    assert "All 32 layers on nvidia:0" in on_gpu.detail
    assert "nvidia:0" not in on_cpu.detail and "CPU only" in on_cpu.detail, on_cpu


def recorded_llama_server(tmp_path: Path, fixture: str | None) -> engine_devices.EngineInfo:
    """A llama-server that lists the recorded devices (None: a CPU build, which lists none)."""
    text = (FIXTURES / fixture).read_text() if fixture else "Available devices:\n"
    listed = engine_devices.parse_list_devices(text)
    binary = tmp_path / "llama-server"
    return engine_devices.EngineInfo(
        LLAMA_SERVER, "b9993", str(binary), (engine_devices.CPU_DEVICE, *listed)
    )


def test_a_gpu_and_a_gpu_llama_server_load_on_it_by_default(
    rtx4090: HardwareCapabilities, starter_path: Path, tmp_path: Path
) -> None:
    server = recorded_llama_server(tmp_path, "llama_server_list_devices_cuda.txt")
    engine_devices.use_recorded((recorded("xllamacpp_devices_cpu.json"), server))
    assert resolve_engine() == EngineKind(LLAMA_SERVER, tmp_path / "llama-server")
    mode, layers = plan_mode(rtx4090, starter_path)
    assert mode is InferenceMode.FULL_GPU and layers > 0
    assert unused_gpu_note(rtx4090.gpus) is None


def test_a_gpu_and_only_cpu_engines_load_on_the_cpu_with_the_fix_said(
    rtx4090: HardwareCapabilities, starter_path: Path, tmp_path: Path
) -> None:
    cpu_server = recorded_llama_server(tmp_path, None)
    engine_devices.use_recorded((recorded("xllamacpp_devices_cpu.json"), cpu_server))
    assert resolve_engine() == EMBEDDED_KIND
    assert plan_mode(rtx4090, starter_path) == (InferenceMode.CPU_ONLY, 0)
    note = unused_gpu_note(rtx4090.gpus)
    assert note == (
        "the installed llama.cpp engines run on the CPU only: this machine's GPU is not used; "
        "build a GPU engine with `make gpu` (or `lexitui engine build --cuda`)"
    )


def test_no_gpu_loads_on_the_embedded_engine_without_a_note(
    no_gpu: HardwareCapabilities, starter_path: Path, tmp_path: Path
) -> None:
    engine_devices.use_recorded(
        (recorded("xllamacpp_devices_cpu.json"), recorded_llama_server(tmp_path, None))
    )
    assert resolve_engine() == EMBEDDED_KIND
    assert plan_mode(no_gpu, starter_path) == (InferenceMode.CPU_ONLY, 0)
    assert unused_gpu_note(no_gpu.gpus) is None

"""HardwareDetector over fake machines: probes, soft failures, events, backend support."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lexitui.domain.enums import GpuBackend, InferenceBackendType, InferenceMode, ModelSizeCategory
from lexitui.events import Event, EventBus, HardwareDetected
from lexitui.hardware.detector import HardwareDetector, nearest_existing
from lexitui.hardware.settings import HardwareSettings

Make = Callable[..., HardwareDetector]
B = InferenceBackendType


async def test_eight_h100_server(make_detector: Make) -> None:
    bus = EventBus()
    seen: list[Event] = []
    bus.hardware.subscribe(seen.append)
    detector = make_detector("nvml_8x_h100.json", bus=bus)
    caps = await detector.detect()
    assert caps.operating_system == "linux" and caps.architecture == "x64"
    assert caps.cpu.name == "Intel(R) Xeon(R) Platinum 8480+" and caps.cpu.supports_avx512
    assert len(caps.gpus) == 8 and caps.primary_gpu is caps.gpus[0]
    assert caps.total_vram_bytes == 8 * 81559 * 1024**2
    assert caps.recommendation.max_recommended_size is ModelSizeCategory.XXLARGE
    assert caps.probe_notes == ()
    assert detector.last is caps
    assert len(seen) == 1 and isinstance(seen[0], HardwareDetected)
    assert seen[0].gpu_count == 8 and "8x NVIDIA H100 80GB HBM3" in seen[0].summary


async def test_driver_mismatch_fails_soft(make_detector: Make, drm_card: Any) -> None:
    detector = make_detector("nvml_driver_mismatch.json", files=drm_card("card0", "0x10de"))
    caps = await detector.detect()
    assert caps.gpus == ()
    assert caps.recommendation.recommended_mode is InferenceMode.CPU_ONLY
    assert caps.cpu.logical_cores == 8  # the CPU probe was unaffected
    assert any(n.startswith("nvidia: driver/library version mismatch") for n in caps.probe_notes)
    assert any("1 NVIDIA card(s) on the PCI bus cannot be used" in n for n in caps.probe_notes)
    support = await detector.check_backend_support(B.VLLM)
    assert not support.supported and "probe notes" in support.reason


async def test_cuda_visible_devices_honoured(make_detector: Make) -> None:
    detector = make_detector("nvml_8x_h100.json", environ={"CUDA_VISIBLE_DEVICES": "6,7"})
    caps = await detector.detect()
    assert [g.id for g in caps.gpus] == ["nvidia:6", "nvidia:7"]
    assert any("6 GPU(s) hidden" in n for n in caps.probe_notes)


async def test_allowed_gpus_setting(make_detector: Make) -> None:
    settings = HardwareSettings(allowed_gpus=("nvidia:1",))
    detector = make_detector("nvml_2_gpus_a100.json", settings=settings)
    caps = await detector.detect()
    assert [g.id for g in caps.gpus] == ["nvidia:1"]
    assert "settings: 1 GPU(s) left out by hardware.allowed_gpus" in caps.probe_notes
    assert [g.id for g in await detector.gpus(apply_settings=False)] == ["nvidia:0", "nvidia:1"]
    assert [g.id for g in await detector.gpus()] == ["nvidia:1"]


async def test_amd_box_with_arm_cpu(make_detector: Make, drm_card: Any) -> None:
    files = drm_card("card0", "0x1002", device="0x74a1", mem_info_vram_total=str(192 * 2**30))
    detector = make_detector(
        "nvml_no_driver.json", cpuinfo="cpuinfo_arm_neoverse_n1.txt", machine="aarch64", files=files
    )
    caps = await detector.detect()
    assert caps.architecture == "arm64" and caps.cpu.name == "ARM Neoverse-N1"
    assert [g.supported_backend for g in caps.gpus] == [GpuBackend.ROCM]
    assert caps.probe_notes == ("nvidia: NVIDIA driver not loaded (libnvidia-ml not found)",)
    vllm = await detector.check_backend_support(B.VLLM)
    assert vllm.supported and "ROCm" in vllm.reason


async def test_apple_silicon(make_detector: Make, memory_box: Any) -> None:
    calls: list[list[str]] = []

    def runner(argv: list[str]) -> str:
        calls.append(argv)
        return {
            "machdep.cpu.brand_string": "Apple M3 Max",
            "hw.physicalcpu": "16",
            "hw.logicalcpu": "16",
        }.get(argv[-1], "")

    detector = make_detector(
        None, cpuinfo=None, system="Darwin", machine="arm64", runner=runner, ram=memory_box(128, 90)
    )
    caps = await detector.detect()
    assert caps.operating_system == "darwin" and caps.cpu.name == "Apple M3 Max"
    (gpu,) = caps.gpus
    assert gpu.name == "Apple M3 Max GPU" and gpu.supported_backend is GpuBackend.METAL
    assert gpu.vram_bytes == 128 * 2**30
    assert caps.recommendation.recommended_mode is InferenceMode.FULL_GPU
    chip_reads = len([c for c in calls if c[-1] == "machdep.cpu.brand_string"])
    assert chip_reads == 2  # one for the CPU probe, one for the GPU's name
    await detector.gpus()
    # The chip never changes: later GPU probes (the monitor's, every 2 s) reuse the name.
    assert len([c for c in calls if c[-1] == "machdep.cpu.brand_string"]) == chip_reads
    ollama = await detector.check_backend_support(B.OLLAMA)
    assert ollama.supported and "metal" in ollama.reason
    assert (await detector.check_backend_support(B.VLLM)).supported is False


async def test_intel_mac_cannot_run_lm_studio(make_detector: Make) -> None:
    detector = make_detector(
        None, cpuinfo=None, system="darwin", machine="x86_64", runner=lambda argv: ""
    )
    support = await detector.check_backend_support(B.LM_STUDIO)
    assert not support.supported and "Apple Silicon" in support.reason


async def test_backend_support_on_cpu_only_box(make_detector: Make) -> None:
    detector = make_detector("nvml_0_gpus.json")
    for backend in (B.OLLAMA, B.LLAMA_CPP, B.LM_STUDIO, B.LOCAL_AI, B.TEXT_GEN_WEB_UI):
        support = await detector.check_backend_support(backend)
        assert support.supported and "CPU only" in support.reason and "AVX-512" in support.reason
    vllm = await detector.check_backend_support(B.VLLM)
    assert not vllm.supported and "NVIDIA (CUDA) or AMD (ROCm)" in vllm.reason
    assert (await detector.check_backend_support(B.CUSTOM)).supported


async def test_old_gpu_rejected_by_vllm(
    make_detector: Make, fixtures_dir: Path, recorded: Any, tmp_path: Path
) -> None:
    data = json.loads((fixtures_dir / "nvml_1_gpu_rtx4090.json").read_text())
    device = data["snapshots"][0]["devices"][0]
    device.update(name="Tesla P40", compute_capability=[6, 1])
    path = tmp_path / "p40.json"
    path.write_text(json.dumps(data))
    detector = make_detector(recorded(str(path)))
    vllm = await detector.check_backend_support(B.VLLM)
    assert not vllm.supported and "7.0 or newer; found 6.1" in vllm.reason
    ollama = await detector.check_backend_support(B.OLLAMA)
    assert ollama.supported and "cuda on Tesla P40" in ollama.reason


async def test_broken_memory_and_disk_fail_soft(make_detector: Make, tmp_path: Path) -> None:
    def no_memory() -> tuple[int, int]:
        raise RuntimeError("psutil exploded")

    detector = make_detector(ram=no_memory)
    caps = await detector.detect()
    assert caps.total_ram_bytes == 0
    assert any(n.startswith("memory: cannot read RAM size") for n in caps.probe_notes)
    assert caps.available_disk_bytes > 0  # the models folder does not exist yet: parent counted
    assert caps.model_storage_path == str(tmp_path / "home" / "data" / "models")


def test_nearest_existing(tmp_path: Path) -> None:
    assert nearest_existing(tmp_path / "a" / "b" / "c") == tmp_path
    assert nearest_existing(tmp_path) == tmp_path


async def test_capabilities_json_is_stable(make_detector: Make) -> None:
    caps = await make_detector("nvml_mig_a100.json").detect()
    data = json.loads(json.dumps(caps.to_json_dict()))
    assert set(data) >= {
        "operating_system",
        "architecture",
        "cpu",
        "total_ram_bytes",
        "available_ram_bytes",
        "gpus",
        "available_disk_bytes",
        "model_storage_path",
        "recommendation",
        "probe_notes",
        "total_vram_bytes",
        "primary_gpu_id",
    }
    mig = data["gpus"][0]
    assert mig["vendor"] == "nvidia" and mig["supported_backend"] == "cuda" and mig["is_mig"]
    assert mig["compute_capability"] == "8.0" and mig["compute_capability_int"] == 80
    rec = data["recommendation"]
    assert rec["recommended_mode"] in {m.value for m in InferenceMode}
    assert rec["available_options"][0].keys() >= {
        "size",
        "quantization",
        "compatibility",
        "estimated_memory_bytes",
        "estimated_tokens_per_second",
    }


def test_default_detector_uses_real_probes() -> None:
    if shutil.which("nvidia-smi"):
        pytest.skip("a real NVIDIA machine: covered by bench/gpu_check.py")
    detector = HardwareDetector(environ={"LEXITUI_HOME": "/nonexistent-lexitui-home"})
    assert detector.model_storage_path == Path("/nonexistent-lexitui-home/data/models")
    notes: list[str] = []
    gpus = detector.probe_gpus(notes)
    assert all(g.vendor.value != "nvidia" for g in gpus)
    detector.close()

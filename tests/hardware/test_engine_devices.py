"""The engines installed here and the devices they can use: recorded device lists and the real
embedded engine's own answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lexitui.domain.enums import GpuBackend, GpuVendor
from lexitui.domain.hardware import GpuInfo
from lexitui.engine import devices as engine_devices
from lexitui.engine.devices import (
    CPU_DEVICE,
    EMBEDDED,
    EngineInfo,
    can_drive,
    devices_from_device_info,
    parse_list_devices,
    unusable_backends,
)
from lexitui.hardware.unused_gpu import unused_gpu_note

FIXTURES = Path(__file__).parent.parent / "fixtures" / "hardware"
MIB = 1024**2


def recorded(name: str) -> EngineInfo:
    rows = json.loads((FIXTURES / name).read_text())
    return EngineInfo(EMBEDDED, "recorded", None, devices_from_device_info(rows))


def gpu(backend: GpuBackend = GpuBackend.CUDA) -> GpuInfo:
    return GpuInfo(
        id="nvidia:0",
        name="NVIDIA H100 80GB HBM3",
        vendor=GpuVendor.NVIDIA,
        vram_bytes=80 * 1024 * MIB,
        available_vram_bytes=79 * 1024 * MIB,
        supported_backend=backend,
    )


def test_a_cuda_device_list_drives_the_cuda_gpu() -> None:
    engine = recorded("xllamacpp_devices_cuda.json")
    cuda, cpu = engine.devices
    assert (cuda.name, cuda.type, cuda.backend) == ("CUDA0", "gpu", "CUDA")
    assert cuda.memory_total_bytes == 85017362432
    assert (cpu.type, cpu.backend) == ("cpu", "CPU")
    assert engine.gpu_backends == {GpuBackend.CUDA}
    assert can_drive(gpu(), (engine,))
    assert not can_drive(gpu(GpuBackend.ROCM), (engine,))


def test_a_cpu_device_list_drives_no_gpu() -> None:
    engine = recorded("xllamacpp_devices_cpu.json")
    assert [d.type for d in engine.devices] == ["cpu"]
    assert engine.gpu_backends == frozenset()
    assert not can_drive(gpu(), (engine,))
    assert "CPU only" in engine.summary()


def test_the_note_speaks_only_when_a_gpu_goes_unused() -> None:
    engine_devices.use_recorded((recorded("xllamacpp_devices_cpu.json"),))
    note = unused_gpu_note((gpu(),))
    assert note is not None and "CPU only" in note and "`make gpu`" in note
    assert "`lexitui engine build --cuda`" in note
    assert unused_gpu_note(()) is None  # no GPU: nothing to say
    engine_devices.use_recorded((recorded("xllamacpp_devices_cuda.json"),))
    assert unused_gpu_note((gpu(),)) is None


def test_llama_server_list_devices_is_parsed() -> None:
    text = (FIXTURES / "llama_server_list_devices_cuda.txt").read_text()
    devices = parse_list_devices(text)
    assert [(d.name, d.type, d.backend) for d in devices] == [
        ("CUDA0", "gpu", "CUDA"),
        ("CUDA1", "gpu", "CUDA"),
    ]
    assert devices[1].memory_free_bytes == 1240 * MIB
    assert devices[0].description == "NVIDIA H100 80GB HBM3"
    assert parse_list_devices("garbage\n  CUDA0: not after the heading (1 MiB, 1 MiB free)") == ()


def test_the_real_embedded_engine_reports_its_cpu(probed_engines: None) -> None:
    engines = engine_devices.available_engines()
    embedded = next(e for e in engines if e.kind == EMBEDDED)
    assert embedded.error is None and embedded.version
    assert any(d.type == "cpu" and d.backend == "CPU" for d in embedded.devices)


def test_a_probe_that_fails_is_said_not_guessed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_devices, "_PROBE", "import sys; sys.exit('no backend loaded')")
    engine = engine_devices.probe_embedded()
    assert engine is not None and engine.devices == ()
    assert engine.error == "device probe failed: no backend loaded"
    assert "devices unknown (device probe failed: no backend loaded)" in engine.summary()
    engine_devices.use_recorded((engine,))
    note = unused_gpu_note((gpu(),))
    assert note is not None and note.startswith("the llama.cpp engine's devices could not be read")


def test_a_gpu_build_that_cannot_start_its_backend_says_why() -> None:
    # Recorded from a CUDA build of llama-server on a machine without an NVIDIA driver.
    text = (FIXTURES / "llama_server_list_devices_cuda_no_driver.txt").read_text()
    assert parse_list_devices(text) == ()
    reason = "CUDA driver version is insufficient for CUDA runtime version"
    assert unusable_backends(text) == (f"CUDA: {reason}",)
    engine = EngineInfo(
        "llama-server", "b9993", "llama-server", (CPU_DEVICE,), unusable=unusable_backends(text)
    )
    assert engine.summary().endswith(f"CPU only: CPU (CUDA built in, unusable here: {reason})")
    assert not can_drive(gpu(), (engine,))
    engine_devices.use_recorded((recorded("xllamacpp_devices_cpu.json"), engine))
    note = unused_gpu_note((gpu(),))
    assert note == (
        f"the GPU engine's CUDA backend cannot start here ({reason}): this machine's GPU is not "
        "used; check the GPU driver (`nvidia-smi`), or rebuild with `make gpu`"
    )

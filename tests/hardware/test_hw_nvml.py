"""The NVML seam: recorded replays, the JSON format, and the real adapter over a fake pynvml."""

from __future__ import annotations

import ctypes.util
import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from lexitui.hardware.nvml_adapter import PynvmlReader
from lexitui.hardware.nvml_recorded import RecordedNvml
from lexitui.hardware.nvml_snapshot import (
    NvmlUnavailable,
    snapshot_from_dict,
    snapshot_to_dict,
)

Recorded = Callable[[str], RecordedNvml]


def test_recording_roundtrips(recorded: Recorded, fixtures_dir: Path) -> None:
    snapshot = recorded("nvml_8x_h100.json").read()
    raw = json.loads((fixtures_dir / "nvml_8x_h100.json").read_text())["snapshots"][0]
    assert snapshot_to_dict(snapshot) == raw
    assert snapshot_from_dict(snapshot_to_dict(snapshot)) == snapshot
    assert snapshot.cuda_version == "12.4"
    assert len(snapshot.devices) == 8


def test_replay_walks_steps_then_repeats_last(recorded: Recorded) -> None:
    reader = recorded("nvml_gpu_vanishes.json")
    counts = [len(reader.read().devices) for _ in range(4)]
    assert counts == [2, 1, 1, 1]
    assert reader.reads == 4


def test_version_mismatch_gives_readable_reason(recorded: Recorded) -> None:
    reader = recorded("nvml_driver_mismatch.json")
    with pytest.raises(NvmlUnavailable) as err:
        reader.read()
    assert err.value.code == 18
    assert err.value.reason.startswith("driver/library version mismatch")
    with pytest.raises(NvmlUnavailable):
        reader.read()  # every read fails, not only the first


def test_no_driver_reason(recorded: Recorded) -> None:
    with pytest.raises(NvmlUnavailable, match="NVIDIA driver not loaded"):
        recorded("nvml_no_driver.json").read()


def test_processes_left_out_on_request(recorded: Recorded) -> None:
    reader = recorded("nvml_8x_h100.json")
    assert reader.read(processes=True).devices[0].processes
    assert all(not d.processes for d in reader.read(processes=False).devices)


def test_bad_recordings_rejected() -> None:
    with pytest.raises(ValueError, match="snapshots"):
        RecordedNvml.from_data({"devices": []})
    with pytest.raises(ValueError, match="bad NVML recording"):
        RecordedNvml.from_data({"snapshots": [{"devices": []}]})  # no driver_version
    with pytest.raises(ValueError):
        RecordedNvml([])


@pytest.mark.skipif(
    ctypes.util.find_library("nvidia-ml") is not None, reason="this machine has an NVIDIA driver"
)
def test_real_adapter_without_driver_fails_soft() -> None:
    reader = PynvmlReader()
    with pytest.raises(NvmlUnavailable) as err:
        reader.read()
    assert err.value.code == 12
    assert "NVIDIA driver not loaded" in err.value.reason
    reader.close()


# --- PynvmlReader over a fake pynvml module ------------------------------------------------


class FakeError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.value = value


class FakePynvml:
    """Just enough of pynvml's surface: two GPUs, GPU 1 in MIG mode with one instance."""

    NVMLError = FakeError
    NVML_TEMPERATURE_GPU = 0
    NVML_DEVICE_MIG_ENABLE = 1

    def __init__(self) -> None:
        self.inits = 0
        self.shutdowns = 0
        self.init_error: int | None = None
        self.lost: set[int] = set()

    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise FakeError(self.init_error)
        self.inits += 1

    def nvmlShutdown(self) -> None:
        self.shutdowns += 1

    def nvmlSystemGetDriverVersion(self) -> bytes:
        return b"550.54.15"  # old pynvml releases answer bytes

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        return 12040

    def nvmlDeviceGetCount(self) -> int:
        return 2

    def nvmlDeviceGetHandleByIndex(self, i: int) -> Any:
        if i in self.lost:
            raise FakeError(15)
        return ("gpu", i)

    def nvmlDeviceGetMemoryInfo(self, h: Any) -> Any:
        total = 80 * 2**30 if h[0] == "gpu" else 40 * 2**30
        return SimpleNamespace(total=total, free=total - 2**30, used=2**30)

    def nvmlDeviceGetUUID(self, h: Any) -> str:
        return f"GPU-{h[1]}" if h[0] == "gpu" else f"MIG-{h[1]}-{h[2]}"

    def nvmlDeviceGetName(self, h: Any) -> str:
        return "NVIDIA H100 80GB HBM3" if h[0] == "gpu" else "NVIDIA H100 MIG 3g.40gb"

    def nvmlDeviceGetCudaComputeCapability(self, h: Any) -> tuple[int, int]:
        return (9, 0)

    def nvmlDeviceGetUtilizationRates(self, h: Any) -> Any:
        if h[1] == 1:
            raise FakeError(3)  # NOT_SUPPORTED on a MIG parent
        return SimpleNamespace(gpu=42, memory=10)

    def nvmlDeviceGetTemperature(self, h: Any, sensor: int) -> int:
        return 55

    def nvmlDeviceGetPowerUsage(self, h: Any) -> int:
        return 350_000

    def nvmlDeviceGetTotalEnergyConsumption(self, h: Any) -> int:
        return 123_456_789  # mJ since the driver loaded

    def nvmlDeviceGetPciInfo(self, h: Any) -> Any:
        return SimpleNamespace(busId=f"00000000:{h[1]:02X}:00.0".encode())

    def nvmlDeviceGetMigMode(self, h: Any) -> list[int]:
        return [1, 1] if h[1] == 1 else [0, 0]

    def nvmlDeviceGetMaxMigDeviceCount(self, h: Any) -> int:
        return 3

    def nvmlDeviceGetMigDeviceHandleByIndex(self, h: Any, i: int) -> Any:
        if i != 1:
            raise FakeError(6)  # NOT_FOUND: empty slot
        return ("mig", h[1], i)

    def nvmlDeviceGetComputeRunningProcesses(self, h: Any) -> list[Any]:
        return [SimpleNamespace(pid=77, usedGpuMemory=None)]

    def nvmlSystemGetProcessName(self, pid: int) -> bytes:
        return b"ollama"


def _reader(fake: FakePynvml) -> PynvmlReader:
    reader = PynvmlReader()
    reader._nvml = fake  # the injection point: the module object the reader calls
    return reader


def test_adapter_reads_devices_and_mig() -> None:
    fake = FakePynvml()
    snapshot = _reader(fake).read()
    assert snapshot.driver_version == "550.54.15"
    gpu0, gpu1 = snapshot.devices
    assert (gpu0.utilization_gpu, gpu0.temperature_c, gpu0.power_mw) == (42, 55, 350_000)
    assert gpu0.energy_mj == 123_456_789
    assert gpu0.pci_bus_id == "00000000:00:00.0"
    assert gpu0.processes[0].name == "ollama" and gpu0.processes[0].used_memory_bytes is None
    assert gpu1.utilization_gpu is None  # refused reading became None, the rest survived
    assert gpu1.mig_enabled and [m.uuid for m in gpu1.mig_devices] == ["MIG-1-1"]


def test_adapter_initialises_once_and_skips_processes() -> None:
    fake = FakePynvml()
    reader = _reader(fake)
    reader.read()
    snapshot = reader.read(processes=False)
    assert fake.inits == 1
    assert all(not d.processes for d in snapshot.devices)
    reader.close()
    assert fake.shutdowns == 1


def test_adapter_lost_gpu_drops_only_that_gpu() -> None:
    fake = FakePynvml()
    fake.lost = {1}
    assert [d.index for d in _reader(fake).read().devices] == [0]


@pytest.mark.parametrize(
    ("code", "words"),
    [(9, "NVIDIA driver not loaded"), (18, "driver/library version mismatch"), (4, "permission")],
)
def test_adapter_init_errors_become_reasons(code: int, words: str) -> None:
    fake = FakePynvml()
    fake.init_error = code
    reader = _reader(fake)
    with pytest.raises(NvmlUnavailable) as err:
        reader.read()
    assert words in err.value.reason and err.value.code == code
    fake.init_error = None
    assert len(reader.read().devices) == 2  # recovers once the driver is back

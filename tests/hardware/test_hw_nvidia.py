"""NVML readings to GpuInfo, and CUDA_VISIBLE_DEVICES filtering with CUDA's rules."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lexitui.domain.enums import GpuBackend, GpuVendor
from lexitui.hardware.nvidia import gpu_infos, parse_cuda_visible_devices
from lexitui.hardware.nvml_recorded import RecordedNvml
from lexitui.hardware.nvml_snapshot import NvmlSnapshot

Recorded = Callable[[str], RecordedNvml]
MIB = 1024**2


@pytest.fixture
def h100x8(recorded: Recorded) -> NvmlSnapshot:
    return recorded("nvml_8x_h100.json").read()


def test_eight_h100s(h100x8: NvmlSnapshot) -> None:
    notes: list[str] = []
    gpus = gpu_infos(h100x8, None, notes)
    assert [g.id for g in gpus] == [f"nvidia:{i}" for i in range(8)]
    g = gpus[0]
    assert g.name == "NVIDIA H100 80GB HBM3" and g.vendor is GpuVendor.NVIDIA
    assert g.vram_bytes == 81559 * MIB and g.supported_backend is GpuBackend.CUDA
    assert (g.compute_capability, g.compute_capability_int) == ("9.0", 90)
    assert g.driver_version == "550.54.15"
    assert g.power_watts == pytest.approx(531.0) and g.utilization_percent == 97.0
    assert g.used_vram_bytes == 74011 * MIB
    assert g.processes[0].pid == 48211
    assert gpus[7].processes == () and gpus[7].utilization_percent == 0.0
    assert notes == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", []),
        ("-1", []),
        ("0,2", ["0", "2"]),
        (" 3 , 1 ", ["3", "1"]),
        ("1,-1,3", ["1"]),  # CUDA reads up to the first invalid entry
        ("0,abc,1", ["0"]),
        ("GPU-a4c1,MIG-x", ["GPU-a4c1", "MIG-x"]),
    ],
)
def test_parse_visible(value: str | None, expected: list[str] | None) -> None:
    assert parse_cuda_visible_devices(value) == expected


@pytest.mark.parametrize("value", ["", "-1", "nonsense"])
def test_visible_hides_everything(h100x8: NvmlSnapshot, value: str) -> None:
    notes: list[str] = []
    assert gpu_infos(h100x8, value, notes) == []
    assert any("8 GPU(s) hidden by CUDA_VISIBLE_DEVICES" in n for n in notes)


def test_visible_indices_keep_nvml_ids_in_cuda_order(h100x8: NvmlSnapshot) -> None:
    notes: list[str] = []
    gpus = gpu_infos(h100x8, "5,2,5", notes)
    assert [g.id for g in gpus] == ["nvidia:5", "nvidia:2"]
    assert notes == ["nvidia: 6 GPU(s) hidden by CUDA_VISIBLE_DEVICES='5,2,5'"]


def test_visible_stops_at_missing_index(h100x8: NvmlSnapshot) -> None:
    notes: list[str] = []
    assert [g.id for g in gpu_infos(h100x8, "1,9,2", notes)] == ["nvidia:1"]
    assert any("'9' matches no GPU" in n for n in notes)


def test_visible_by_uuid_prefix(h100x8: NvmlSnapshot) -> None:
    uuid = h100x8.devices[3].uuid
    gpus = gpu_infos(h100x8, uuid[:12].lower(), [])
    assert [g.id for g in gpus] == ["nvidia:3"]
    assert gpu_infos(h100x8, "GPU-", []) == []  # ambiguous prefix matches nothing


def test_mig_instances_replace_their_parent(recorded: Recorded) -> None:
    snapshot = recorded("nvml_mig_a100.json").read()
    notes: list[str] = []
    gpus = gpu_infos(snapshot, None, notes)
    assert [g.id for g in gpus] == ["nvidia:0:mig1", "nvidia:0:mig2", "nvidia:2"]
    mig = gpus[0]
    assert mig.is_mig and mig.vram_bytes == 40192 * MIB
    assert mig.name.endswith("MIG 3g.40gb") and mig.compute_capability == "8.0"
    assert mig.utilization_percent is None and mig.temperature_c == 34.0
    assert not gpus[2].is_mig
    assert any("GPU 1" in n and "no MIG instances" in n for n in notes)


def test_visible_mig_uuid_selects_one_instance(recorded: Recorded) -> None:
    snapshot = recorded("nvml_mig_a100.json").read()
    target = snapshot.devices[0].mig_devices[1].uuid
    gpus = gpu_infos(snapshot, target, [])
    assert [(g.id, g.uuid) for g in gpus] == [("nvidia:0:mig2", target)]


def test_real_h200_recording(recorded: Recorded) -> None:
    """Captured with ``bench/gpu_check.py --record`` on an H200 (UUID anonymised); nvidia-smi
    said: NVIDIA H200, 143771 MiB, driver 580.159.04, compute capability 9.0."""
    snapshot = recorded("nvml_h200_recorded.json").read()
    assert snapshot.cuda_version == "13.0"
    (gpu,) = gpu_infos(snapshot, None, [])
    assert (gpu.name, gpu.vram_bytes // MIB, gpu.driver_version, gpu.compute_capability) == (
        "NVIDIA H200",
        143771,
        "580.159.04",
        "9.0",
    )
    assert gpu.power_watts == pytest.approx(80.995)

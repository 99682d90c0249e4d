"""AMD and Intel GPUs from Linux sysfs (``/sys/class/drm/cardN/device``), no vendor library needed.

amdgpu publishes VRAM totals, busy percent and hwmon sensors as plain files, which is cheaper and
more dependable than shelling out to rocm-smi. Intel GPUs share system RAM, so they are listed as
integrated (SYCL backend) and the RAM budget governs them. NVIDIA cards are only counted here: NVML
describes them, and a count lets the detector say "NVIDIA GPU present but NVML unavailable".
All readers take ``root`` so tests pass a fake tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lexitui.domain.enums import GpuBackend, GpuVendor
from lexitui.domain.hardware import GpuInfo

AMD_VENDOR = "0x1002"
INTEL_VENDOR = "0x8086"
NVIDIA_VENDOR = "0x10de"
_CARD = re.compile(r"^card\d+$")  # card0-DP-1 and renderD128 are connectors/nodes, not GPUs
# APU carve-outs are usually 512 MiB-2 GiB; anything larger behaves like dedicated VRAM for us.
_INTEGRATED_MAX_VRAM = 2 * 1024**3

# A few device ids so common cards get a readable name when product_name is absent.
_AMD_NAMES = {
    "0x74a1": "AMD Instinct MI300X",
    "0x74a5": "AMD Instinct MI325X",
    "0x740c": "AMD Instinct MI250X/MI250",
    "0x740f": "AMD Instinct MI210",
    "0x744c": "AMD Radeon RX 7900 XTX/XT",
    "0x7448": "AMD Radeon PRO W7900",
    "0x73bf": "AMD Radeon RX 6900 XT/6800 XT",
}


@dataclass
class DrmScan:
    gpus: list[GpuInfo] = field(default_factory=list)
    nvidia_cards: int = 0


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def _read_int(path: Path) -> int | None:
    text = _read(path)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _hwmon_reading(device: Path, name: str) -> int | None:
    for hwmon in sorted(device.glob("hwmon/hwmon*")):
        value = _read_int(hwmon / name)
        if value is not None:
            return value
    return None


def scan_drm(root: Path = Path("/")) -> DrmScan:
    """Walk ``/sys/class/drm`` once; a card that cannot be read is skipped, never fatal."""
    scan = DrmScan()
    drm = root / "sys/class/drm"
    try:
        cards = sorted((p for p in drm.iterdir() if _CARD.match(p.name)), key=_card_number)
    except OSError:
        return scan
    for card in cards:
        device = card / "device"
        vendor = (_read(device / "vendor") or "").lower()
        if vendor == AMD_VENDOR:
            scan.gpus.append(amd_gpu(card.name, device))
        elif vendor == INTEL_VENDOR:
            scan.gpus.append(intel_gpu(card.name, device))
        elif vendor == NVIDIA_VENDOR:
            scan.nvidia_cards += 1
    return scan


def _card_number(path: Path) -> int:
    return int(path.name[4:])


def amd_gpu(card: str, device: Path) -> GpuInfo:
    device_id = (_read(device / "device") or "").lower()
    total = _read_int(device / "mem_info_vram_total") or 0
    used = _read_int(device / "mem_info_vram_used")
    temp_milli = _hwmon_reading(device, "temp1_input")
    # Newer kernels name the average "power1_input"; both are microwatts.
    power_micro = _hwmon_reading(device, "power1_average") or _hwmon_reading(device, "power1_input")
    busy = _read_int(device / "gpu_busy_percent")
    integrated = 0 < total <= _INTEGRATED_MAX_VRAM
    name = _read(device / "product_name") or _AMD_NAMES.get(device_id)
    return GpuInfo(
        id=f"amd:{card}",
        uuid=_read(device / "unique_id"),
        name=name or f"AMD GPU [1002:{device_id.removeprefix('0x')}]",
        vendor=GpuVendor.AMD,
        vram_bytes=total,
        available_vram_bytes=None if used is None else max(0, total - used),
        # ROCm wants a discrete card; an APU is served better by Vulkan builds.
        supported_backend=GpuBackend.VULKAN if integrated else GpuBackend.ROCM,
        driver_version=_read(device / "driver/module/version"),
        is_integrated=integrated,
        utilization_percent=None if busy is None else float(busy),
        temperature_c=None if temp_milli is None else temp_milli / 1000.0,
        power_watts=None if power_micro is None else power_micro / 1_000_000.0,
    )


def intel_gpu(card: str, device: Path) -> GpuInfo:
    device_id = (_read(device / "device") or "").lower()
    return GpuInfo(
        id=f"intel:{card}",
        name=f"Intel GPU [8086:{device_id.removeprefix('0x')}]",
        vendor=GpuVendor.INTEL,
        vram_bytes=0,  # shares system RAM
        supported_backend=GpuBackend.SYCL,
        is_integrated=True,
    )

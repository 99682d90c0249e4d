"""Apple Silicon's GPU: unified memory shared with the CPU, reached through Metal.

There is no VRAM to read: the GPU can address most of system RAM, so the GPU record carries the
RAM size and the recommender applies macOS's GPU working-set limit (about three quarters of RAM).
The chip name comes from ``sysctl`` and is cached by the detector, since it never changes.
"""

from __future__ import annotations

from lexitui.domain.enums import GpuBackend, GpuVendor
from lexitui.domain.hardware import GpuInfo

# macOS lets Metal wire roughly this share of RAM by default (recommendedMaxWorkingSetSize).
METAL_WORKING_SET_SHARE = 0.75


def is_apple_silicon(system: str, machine: str) -> bool:
    return system == "darwin" and machine.lower() in ("arm64", "aarch64")


def apple_gpu(chip: str | None, total_ram_bytes: int, available_ram_bytes: int | None) -> GpuInfo:
    """The integrated GPU of an Apple Silicon Mac; ``chip`` is e.g. "Apple M2 Max"."""
    chip = (chip or "Apple Silicon").strip()
    return GpuInfo(
        id="apple:0",
        name=f"{chip} GPU",
        vendor=GpuVendor.APPLE,
        vram_bytes=total_ram_bytes,
        available_vram_bytes=available_ram_bytes,
        supported_backend=GpuBackend.METAL,
        is_integrated=True,
    )

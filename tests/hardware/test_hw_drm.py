"""AMD and Intel GPUs from fake /sys/class/drm trees (Apple's record is built here too)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lexitui.domain.enums import GpuBackend, GpuVendor
from lexitui.hardware.amd import scan_drm
from lexitui.hardware.apple import apple_gpu, is_apple_silicon

Card = Callable[..., dict[str, str]]
Tree = Callable[[Path, dict[str, str]], None]
GIB = 1024**3


def _mi300x(drm_card: Card, card: str = "card1") -> dict[str, str]:
    return drm_card(
        card,
        "0x1002",
        device="0x74a1",
        mem_info_vram_total=str(192 * GIB),
        mem_info_vram_used=str(2 * GIB),
        gpu_busy_percent="37",
        unique_id="1a2b3c4d5e6f",
        **{"hwmon/hwmon4/temp1_input": "48000", "hwmon/hwmon4/power1_average": "287000000"},
    )


def test_amd_gpu_from_sysfs(tmp_path: Path, drm_card: Card, write_tree: Tree) -> None:
    write_tree(tmp_path, _mi300x(drm_card))
    write_tree(
        tmp_path,
        {
            "sys/class/drm/card1-DP-1/status": "connected\n",
            "sys/class/drm/renderD128/dev": "226:128\n",
        },
    )
    scan = scan_drm(tmp_path)
    assert len(scan.gpus) == 1  # connectors and render nodes are not GPUs
    g = scan.gpus[0]
    assert (g.id, g.name, g.vendor, g.uuid) == (
        "amd:card1",
        "AMD Instinct MI300X",
        GpuVendor.AMD,
        "1a2b3c4d5e6f",
    )
    assert g.vram_bytes == 192 * GIB and g.available_vram_bytes == 190 * GIB
    assert g.supported_backend is GpuBackend.ROCM and not g.is_integrated
    assert (g.utilization_percent, g.temperature_c) == (37.0, 48.0)
    assert g.power_watts == pytest.approx(287.0)


def test_unknown_amd_card_named_by_pci_id_and_newer_power_file(
    tmp_path: Path, drm_card: Card, write_tree: Tree
) -> None:
    write_tree(
        tmp_path,
        drm_card(
            "card0",
            "0x1002",
            device="0x7551",
            mem_info_vram_total=str(16 * GIB),
            **{"hwmon/hwmon1/power1_input": "45500000"},
        ),
    )
    g = scan_drm(tmp_path).gpus[0]
    assert g.name == "AMD GPU [1002:7551]"
    assert g.power_watts == pytest.approx(45.5)
    assert g.available_vram_bytes is None and g.temperature_c is None


def test_amd_apu_is_integrated_vulkan(tmp_path: Path, drm_card: Card, write_tree: Tree) -> None:
    write_tree(
        tmp_path,
        drm_card("card0", "0x1002", device="0x15bf", mem_info_vram_total=str(512 * 1024**2)),
    )
    g = scan_drm(tmp_path).gpus[0]
    assert g.is_integrated and g.supported_backend is GpuBackend.VULKAN


def test_intel_and_nvidia_cards(tmp_path: Path, drm_card: Card, write_tree: Tree) -> None:
    write_tree(tmp_path, drm_card("card0", "0x8086", device="0x46a6"))
    write_tree(tmp_path, drm_card("card1", "0x10de", device="0x2330"))
    write_tree(tmp_path, _mi300x(drm_card, "card10"))
    scan = scan_drm(tmp_path)
    assert [g.id for g in scan.gpus] == ["intel:card0", "amd:card10"]  # numeric card order
    intel = scan.gpus[0]
    assert intel.vendor is GpuVendor.INTEL and intel.is_integrated
    assert intel.supported_backend is GpuBackend.SYCL and intel.name == "Intel GPU [8086:46a6]"
    assert scan.nvidia_cards == 1


def test_no_gpu_trees(tmp_path: Path, write_tree: Tree) -> None:
    assert scan_drm(tmp_path).gpus == []  # no /sys/class/drm at all (containers)
    write_tree(tmp_path, {"sys/class/drm/version": "drm 1.1.0\n"})
    scan = scan_drm(tmp_path)
    assert (scan.gpus, scan.nvidia_cards) == ([], 0)


def test_apple_silicon_gpu() -> None:
    assert is_apple_silicon("darwin", "arm64")
    assert not is_apple_silicon("darwin", "x86_64") and not is_apple_silicon("linux", "arm64")
    g = apple_gpu("Apple M2 Max", 64 * GIB, 40 * GIB)
    assert (g.name, g.vram_bytes, g.available_vram_bytes) == (
        "Apple M2 Max GPU",
        64 * GIB,
        40 * GIB,
    )
    assert g.supported_backend is GpuBackend.METAL and g.is_integrated

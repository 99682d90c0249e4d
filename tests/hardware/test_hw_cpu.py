"""CPU parsing against recorded /proc/cpuinfo files, fake sysfs trees and sysctl answers."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from lexitui.hardware.cpu import (
    cpu_info_from_linux,
    cpu_info_from_sysctl,
    parse_cache_size,
    parse_proc_cpuinfo,
    probe_cpu,
    read_l3_cache_bytes,
    read_sysctl,
)

Tree = Callable[[Path, dict[str, str]], None]


def test_intel_xeon_two_sockets_counts_socket_core_pairs(fixtures_dir: Path) -> None:
    facts = parse_proc_cpuinfo((fixtures_dir / "cpuinfo_intel_xeon_avx512.txt").read_text())
    assert facts.name == "Intel(R) Xeon(R) Platinum 8480+"
    assert facts.logical_cores == 8
    # core ids 0 and 1 repeat on socket 1: counting core ids alone would give 2.
    assert facts.physical_cores == 4
    assert {"avx", "avx2", "avx512f", "amx_tile"} <= facts.flags


def test_amd_epyc_has_avx2_but_no_avx512(fixtures_dir: Path, tmp_path: Path) -> None:
    text = (fixtures_dir / "cpuinfo_amd_epyc_avx2.txt").read_text()
    info = cpu_info_from_linux(text, tmp_path, psutil_physical=99, psutil_logical=99)
    assert info.name == "AMD EPYC 7763 64-Core Processor"
    assert (info.physical_cores, info.logical_cores) == (2, 4)  # the text wins over psutil
    assert (info.supports_avx, info.supports_avx2, info.supports_avx512) == (True, True, False)
    assert info.l3_cache_bytes is None  # no sysfs tree under tmp_path


def test_arm_named_from_implementer_and_part(fixtures_dir: Path, tmp_path: Path) -> None:
    text = (fixtures_dir / "cpuinfo_arm_neoverse_n1.txt").read_text()
    facts = parse_proc_cpuinfo(text)
    assert facts.name == "ARM Neoverse-N1"
    assert facts.physical_cores is None  # ARM cpuinfo has no core ids
    assert "asimd" in facts.flags
    info = cpu_info_from_linux(text, tmp_path, psutil_physical=4, psutil_logical=4)
    assert (info.physical_cores, info.logical_cores) == (4, 4)
    assert not (info.supports_avx or info.supports_avx2 or info.supports_avx512)


def test_unknown_arm_part_still_named() -> None:
    text = "processor\t: 0\nCPU implementer\t: 0xc0\nCPU part\t: 0xac3\n"
    assert parse_proc_cpuinfo(text).name == "Ampere part 0xac3"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("32768K", 32 * 1024**2), ("1M", 1024**2), ("2G", 2 * 1024**3), ("512", 512), ("x", None)],
)
def test_cache_size_units(text: str, expected: int | None) -> None:
    assert parse_cache_size(text) == expected


def _cache(cpu: int, index: int, level: int, kind: str, size: str, shared: str) -> dict[str, str]:
    base = f"sys/devices/system/cpu/cpu{cpu}/cache/index{index}"
    return {
        f"{base}/level": f"{level}\n",
        f"{base}/type": f"{kind}\n",
        f"{base}/size": f"{size}\n",
        f"{base}/shared_cpu_list": f"{shared}\n",
    }


def test_l3_counts_each_instance_once(tmp_path: Path, write_tree: Tree) -> None:
    # Two CCXs of 32 MiB: cpu0/cpu1 share one, cpu2/cpu3 the other.
    files: dict[str, str] = {}
    for cpu in range(4):
        shared = "0-1" if cpu < 2 else "2-3"
        files |= _cache(cpu, 0, 1, "Data", "32K", str(cpu))
        files |= _cache(cpu, 1, 1, "Instruction", "32K", str(cpu))
        files |= _cache(cpu, 2, 2, "Unified", "1024K", str(cpu))
        files |= _cache(cpu, 3, 3, "Unified", "32768K", shared)
    write_tree(tmp_path, files)
    assert read_l3_cache_bytes(tmp_path) == 64 * 1024**2


def test_no_l3_is_none(tmp_path: Path, write_tree: Tree) -> None:
    write_tree(tmp_path, _cache(0, 2, 2, "Unified", "1024K", "0"))
    assert read_l3_cache_bytes(tmp_path) is None
    assert read_l3_cache_bytes(tmp_path / "missing") is None


def test_sysctl_intel_mac() -> None:
    info = cpu_info_from_sysctl(
        {
            "machdep.cpu.brand_string": "Intel(R) Core(TM) i9-9880H CPU @ 2.30GHz",
            "hw.physicalcpu": "8",
            "hw.logicalcpu": "16",
            "hw.l3cachesize": "16777216",
            "machdep.cpu.features": "FPU VME SSE4.2 AVX1.0 RDRAND F16C",
            "machdep.cpu.leaf7_features": "RDWRFSGS BMI1 AVX2 BMI2 ERMS",
        }
    )
    assert (info.physical_cores, info.logical_cores, info.l3_cache_bytes) == (8, 16, 16 * 1024**2)
    assert (info.supports_avx, info.supports_avx2, info.supports_avx512) == (True, True, False)


def test_sysctl_apple_silicon_missing_keys() -> None:
    def runner(argv: list[str]) -> str:
        answers = {
            "machdep.cpu.brand_string": "Apple M2 Max",
            "hw.physicalcpu": "12",
            "hw.logicalcpu": "12",
        }
        if argv[-1] not in answers:
            raise subprocess.CalledProcessError(1, argv)
        return answers[argv[-1]] + "\n"

    values = read_sysctl(runner)
    assert values == {
        "machdep.cpu.brand_string": "Apple M2 Max",
        "hw.physicalcpu": "12",
        "hw.logicalcpu": "12",
    }
    info = cpu_info_from_sysctl(values)
    assert info.name == "Apple M2 Max"
    assert info.l3_cache_bytes is None
    assert not info.supports_avx


def test_probe_linux_without_cpuinfo_fails_soft(tmp_path: Path) -> None:
    notes: list[str] = []
    info = probe_cpu("linux", tmp_path, notes)
    assert info.logical_cores >= 1 and info.physical_cores >= 1
    assert any("cannot read /proc/cpuinfo" in n for n in notes)


def test_probe_darwin_with_failing_sysctl_notes_it(tmp_path: Path) -> None:
    def broken(argv: list[str]) -> str:
        raise FileNotFoundError("sysctl")

    notes: list[str] = []
    info = probe_cpu("darwin", tmp_path, notes, broken)
    assert info.name == "unknown CPU"
    assert notes == ["cpu: sysctl gave no answers; CPU name and SIMD flags unknown"]

"""CPU facts: name, cores, L3 cache, and the SIMD flags llama.cpp's CPU kernels care about.

The parse functions take text or a root folder, never the live system, so recorded
``/proc/cpuinfo`` files and fake sysfs trees test them. ``probe_cpu`` stitches them together for
the running machine and fails soft: anything it cannot read becomes a note, not an exception.
"""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

from lexitui.domain.hardware import CpuInfo

# ARM cores name themselves by implementer/part numbers, not a model-name line.
_ARM_IMPLEMENTERS = {"0x41": "ARM", "0x61": "Apple", "0xc0": "Ampere", "0x48": "HiSilicon"}
_ARM_PARTS = {
    "0xd0c": "Neoverse-N1",
    "0xd40": "Neoverse-V1",
    "0xd49": "Neoverse-N2",
    "0xd4f": "Neoverse-V2",
    "0xd0b": "Cortex-A76",
    "0xd08": "Cortex-A72",
    "0xd03": "Cortex-A53",
}


@dataclass(frozen=True)
class CpuinfoFacts:
    """What one ``/proc/cpuinfo`` text says; ``physical_cores`` is None where it cannot tell."""

    name: str | None
    logical_cores: int
    physical_cores: int | None
    flags: frozenset[str]


def parse_proc_cpuinfo(text: str) -> CpuinfoFacts:
    """Parse Linux ``/proc/cpuinfo`` (x86 ``flags`` or ARM ``Features``)."""
    blocks = [b for b in text.split("\n\n") if b.strip()]
    name: str | None = None
    flags: set[str] = set()
    cores: set[tuple[str, str]] = set()
    logical = 0
    arm_ids: tuple[str, str] | None = None
    board: str | None = None  # old ARM kernels name the SoC ("Hardware : BCM2835")
    for block in blocks:
        fields: dict[str, str] = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip().lower()] = value.strip()
        if "processor" in fields and fields["processor"].isdigit():
            logical += 1
        name = name or fields.get("model name")
        board = board or fields.get("hardware")
        flag_text = fields.get("flags") or fields.get("features") or ""
        if not flags and flag_text:
            flags = set(flag_text.split())
        # Two sockets reuse core ids, so a physical core is a (socket, core) pair.
        if "physical id" in fields and "core id" in fields:
            cores.add((fields["physical id"], fields["core id"]))
        if arm_ids is None and "cpu implementer" in fields:
            arm_ids = (fields["cpu implementer"].lower(), fields.get("cpu part", "").lower())
    if name is None and arm_ids is not None:
        vendor = _ARM_IMPLEMENTERS.get(arm_ids[0], f"implementer {arm_ids[0]}")
        part = _ARM_PARTS.get(arm_ids[1], f"part {arm_ids[1]}")
        name = f"{vendor} {part}"
    name = name or board
    return CpuinfoFacts(name, logical, len(cores) or None, frozenset(flags))


def simd_support(flags: frozenset[str]) -> tuple[bool, bool, bool]:
    """(avx, avx2, avx512) from cpuinfo flags; AVX-512 means the foundation set, avx512f."""
    return ("avx" in flags, "avx2" in flags, "avx512f" in flags)


def parse_cache_size(text: str) -> int | None:
    """sysfs cache sizes look like "32768K" or "1M"."""
    text = text.strip().upper()
    units = {"K": 1024, "M": 1024**2, "G": 1024**3}
    try:
        if text and text[-1] in units:
            return int(text[:-1]) * units[text[-1]]
        return int(text)
    except ValueError:
        return None


def read_l3_cache_bytes(root: Path = Path("/")) -> int | None:
    """Total L3 across the machine: each distinct L3 instance counted once.

    cpu0 alone would see only its own CCX/socket slice; EPYC has one L3 per CCX, and the total is
    what "how much cache does this box have" means. Instances are told apart by shared_cpu_list.
    """
    cpu_dir = root / "sys/devices/system/cpu"
    seen: dict[str, int] = {}
    try:
        cpus = sorted(p for p in cpu_dir.glob("cpu[0-9]*") if p.name[3:].isdigit())
    except OSError:
        return None
    for cpu in cpus:
        for index in cpu.glob("cache/index*"):
            level = _read(index / "level")
            kind = _read(index / "type")
            if level != "3" or kind not in ("Unified", "Data"):
                continue
            size = parse_cache_size(_read(index / "size") or "")
            key = _read(index / "shared_cpu_list") or f"{cpu.name}/{index.name}"
            if size is not None:
                seen[key] = size
    return sum(seen.values()) or None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def cpu_info_from_linux(
    cpuinfo_text: str, root: Path, *, psutil_physical: int | None, psutil_logical: int | None
) -> CpuInfo:
    """Combine /proc/cpuinfo, sysfs and psutil's counts (psutil only fills what the text lacks)."""
    facts = parse_proc_cpuinfo(cpuinfo_text)
    avx, avx2, avx512 = simd_support(facts.flags)
    logical = facts.logical_cores or psutil_logical or 1
    physical = facts.physical_cores or psutil_physical or logical
    return CpuInfo(
        name=facts.name or platform.processor() or "unknown CPU",
        physical_cores=physical,
        logical_cores=logical,
        l3_cache_bytes=read_l3_cache_bytes(root),
        supports_avx=avx,
        supports_avx2=avx2,
        supports_avx512=avx512,
    )


SYSCTL_KEYS = (
    "machdep.cpu.brand_string",
    "hw.physicalcpu",
    "hw.logicalcpu",
    "hw.l3cachesize",
    "machdep.cpu.features",
    "machdep.cpu.leaf7_features",
)


def cpu_info_from_sysctl(values: Mapping[str, str]) -> CpuInfo:
    """macOS: ``sysctl -n KEY`` answers. Apple Silicon has no AVX and often no hw.l3cachesize."""
    features = set(values.get("machdep.cpu.features", "").upper().split())
    features |= set(values.get("machdep.cpu.leaf7_features", "").upper().split())
    logical = _int(values.get("hw.logicalcpu")) or os.cpu_count() or 1
    l3 = _int(values.get("hw.l3cachesize"))
    return CpuInfo(
        name=values.get("machdep.cpu.brand_string") or "unknown CPU",
        physical_cores=_int(values.get("hw.physicalcpu")) or logical,
        logical_cores=logical,
        l3_cache_bytes=l3 or None,
        supports_avx="AVX1.0" in features or "AVX" in features,
        supports_avx2="AVX2" in features,
        supports_avx512="AVX512F" in features,
    )


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


CommandRunner = Callable[[list[str]], str]


def run_command(argv: list[str]) -> str:
    """Run a short probe command; a timeout keeps a hung tool from stalling detection."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=3, check=True)
    return done.stdout


def read_sysctl(runner: CommandRunner) -> dict[str, str]:
    values: dict[str, str] = {}
    for key in SYSCTL_KEYS:
        try:
            values[key] = runner(["sysctl", "-n", key]).strip()
        except (OSError, subprocess.SubprocessError):
            continue  # the key does not exist on this Mac (e.g. AVX leaves on Apple Silicon)
    return values


def probe_cpu(
    system: str, root: Path, notes: list[str], runner: CommandRunner = run_command
) -> CpuInfo:
    """The running machine's CPU; never raises."""
    physical = psutil.cpu_count(logical=False)
    logical = psutil.cpu_count(logical=True)
    if system == "linux":
        try:
            text = (root / "proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            notes.append(f"cpu: cannot read /proc/cpuinfo ({exc.strerror or exc})")
            text = ""
        return cpu_info_from_linux(text, root, psutil_physical=physical, psutil_logical=logical)
    if system == "darwin":
        values = read_sysctl(runner)
        if not values:
            notes.append("cpu: sysctl gave no answers; CPU name and SIMD flags unknown")
        return cpu_info_from_sysctl(values)
    notes.append(f"cpu: no SIMD probe for {system}; AVX flags reported as absent")
    logical = logical or 1
    return CpuInfo(
        name=platform.processor() or "unknown CPU",
        physical_cores=physical or logical,
        logical_cores=logical,
    )

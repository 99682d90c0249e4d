"""The memory a model may use on this machine, and how fast that memory can be read.

Decoding one token reads every weight once, so single-stream speed is bounded by memory bandwidth
divided by model size. The bandwidth figures below are published peak numbers for common parts;
unknown parts get a conservative guess by vendor. Every tokens/s figure derived from them is an
estimate for ranking options, not a measurement (bench/ compares against the real engine).
"""

from __future__ import annotations

from dataclasses import dataclass

from lexitui.domain.enums import GpuVendor
from lexitui.domain.hardware import CpuInfo, GpuInfo
from lexitui.domain.units import MIB
from lexitui.engine.devices import can_drive
from lexitui.hardware.apple import METAL_WORKING_SET_SHARE
from lexitui.hardware.memory_estimate import OVERHEAD_FIXED_BYTES
from lexitui.hardware.settings import HardwareSettings

GB = 1e9
# Share of peak bandwidth llama.cpp-style decoding achieves in practice.
BANDWIDTH_EFFICIENCY = 0.6

# Peak memory bandwidth in GB/s, matched as a substring of the (lower-cased) GPU name; the most
# specific names come first.
_GPU_BANDWIDTH: tuple[tuple[str, float], ...] = (
    ("gh200", 4000),
    ("h200", 4800),
    ("h100 nvl", 3900),
    ("h100 pcie", 2000),
    ("h100", 3350),
    ("b200", 8000),
    ("a100-sxm4-80gb", 2039),
    ("a100 80gb pcie", 1935),
    ("a100", 1555),
    ("l40s", 864),
    ("l40", 864),
    ("l4", 300),
    ("a10g", 600),
    ("a10", 600),
    ("rtx 6000 ada", 960),
    ("a6000", 768),
    ("t4", 320),
    ("v100", 900),
    ("rtx 5090", 1792),
    ("rtx 5080", 960),
    ("rtx 4090", 1008),
    ("rtx 4080", 717),
    ("rtx 4070", 504),
    ("rtx 3090", 936),
    ("rtx 3080", 760),
    ("rtx 3060", 360),
    ("mi325x", 6000),
    ("mi300x", 5300),
    ("mi250", 3277),
    ("mi210", 1638),
    ("7900 xtx", 960),
    ("w7900", 864),
    ("m1 ultra", 800),
    ("m2 ultra", 800),
    ("m3 ultra", 819),
    ("m1 max", 400),
    ("m2 max", 400),
    ("m3 max", 400),
    ("m4 max", 546),
    ("m1 pro", 200),
    ("m2 pro", 200),
    ("m3 pro", 150),
    ("m4 pro", 273),
    ("apple m1", 68),
    ("apple m2", 100),
    ("apple m3", 100),
    ("apple m4", 120),
)


def known_gpu_bandwidth(gpu: GpuInfo) -> float | None:
    """Peak bytes/s from the spec-sheet table, or None for a GPU not in it."""
    name = gpu.name.lower()
    return next((gbs * GB for needle, gbs in _GPU_BANDWIDTH if needle in name), None)


def gpu_bandwidth(gpu: GpuInfo) -> float:
    """Peak bytes/s of one GPU: the table's figure, else a guess by vendor and generation."""
    known = known_gpu_bandwidth(gpu)
    if known is not None:
        return known
    if gpu.vendor is GpuVendor.NVIDIA:
        cc = gpu.compute_capability_int or 0
        return (2000 if cc >= 90 else 900 if cc >= 80 else 400) * GB
    if gpu.vendor is GpuVendor.APPLE:
        return 100 * GB
    return 400 * GB if not gpu.is_integrated else 60 * GB


def cpu_bandwidth(cpu: CpuInfo) -> float:
    """A guess at RAM bandwidth: ~8 GB/s per physical core, from a dual-channel desktop (~20 GB/s)
    up to a many-channel server (~300 GB/s). Software cannot read channel counts portably."""
    return min(max(cpu.physical_cores * 8.0, 20.0), 300.0) * GB


def is_offload_target(gpu: GpuInfo) -> bool:
    """GPUs that hold weights in memory of their own. Apple's unified memory counts: Metal runs
    whole models there. Other integrated GPUs share the RAM budget, so offloading gains nothing."""
    return gpu.vendor is GpuVendor.APPLE or (not gpu.is_integrated and gpu.vram_bytes > 0)


@dataclass(frozen=True)
class Budget:
    gpu_bytes: int  # model bytes the usable GPU(s) can hold, headroom taken off
    ram_bytes: int  # model bytes RAM can hold, headroom taken off
    gpu_bandwidth: float  # bytes/s of the slowest usable GPU (0 without one)
    cpu_bandwidth: float
    gpus: tuple[GpuInfo, ...]
    unified: bool  # Apple: GPU and CPU share one pool, so there is no hybrid split
    cpu: CpuInfo
    undriven_gpus: int = 0  # GPUs here that no installed engine can drive

    @property
    def has_gpu(self) -> bool:
        return self.gpu_bytes > 0


def budget_for(
    cpu: CpuInfo,
    total_ram_bytes: int,
    gpus: list[GpuInfo] | tuple[GpuInfo, ...],
    settings: HardwareSettings,
) -> Budget:
    """What the recommender may plan with: the machine's capacity, not this moment's free memory
    (a model already loaded would otherwise shrink every recommendation; loading checks free
    memory at load time)."""
    ram = max(0, total_ram_bytes - settings.ram_headroom_mb * MIB)
    allowed = (
        tuple(g for g in gpus if is_offload_target(g) and settings.allows(g.id, g.uuid))
        if not settings.cpu_only
        else ()
    )
    usable = tuple(g for g in allowed if can_drive(g))  # a CPU build of llama.cpp drives none
    unified = any(g.vendor is GpuVendor.APPLE for g in usable)
    if unified:
        gpu_bytes = min(int(total_ram_bytes * METAL_WORKING_SET_SHARE), ram)
    else:
        headroom = settings.vram_headroom_mb * MIB
        gpu_bytes = sum(max(0, g.vram_bytes - headroom) for g in usable)
        # Every extra GPU holds its own runtime context and compute buffers.
        gpu_bytes = max(0, gpu_bytes - OVERHEAD_FIXED_BYTES * max(0, len(usable) - 1))
    # Split across GPUs, layers run one GPU after another: the slowest sets the pace.
    bandwidth = min((gpu_bandwidth(g) for g in usable), default=0.0)
    undriven = len(allowed) - len(usable)
    return Budget(gpu_bytes, ram, bandwidth, cpu_bandwidth(cpu), usable, unified, cpu, undriven)


def describe_gpus(gpus: tuple[GpuInfo, ...]) -> str:
    names: dict[str, int] = {}
    for g in gpus:
        names[g.name] = names.get(g.name, 0) + 1
    return ", ".join(f"{n}x {name}" if n > 1 else name for name, n in names.items())

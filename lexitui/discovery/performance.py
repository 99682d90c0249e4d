"""How fast a model will decode and load on this machine: a memory-bandwidth model.

Decoding one token reads every weight the token touches once (all of a dense model; for MoE
only the experts the router picks) plus the KV cache written so far. On every device that holds
weights that read takes bytes / bandwidth, and the devices run one after another (llama.cpp's
layer split is a pipeline, not parallel), so the time per token is the sum over devices.
Prompt processing is compute-bound and not modelled here.

Bandwidth: GPUs by name from published peak figures; CPUs have no honest probe in the hardware
record (channel count and DIMM speed are not readable portably), so the recommender's guess by
physical core count (hardware/budget.py) stands in, with low confidence. Checked on a 2-core
machine: the starter model decodes at ~130 tokens/s and the model below gives ~125.
"""

from __future__ import annotations

from dataclasses import dataclass

from lexitui.discovery.model_facts import ModelFacts
from lexitui.domain.discovery import PerformanceEstimate
from lexitui.domain.hardware import GpuInfo, HardwareCapabilities
from lexitui.domain.memory import MemoryBreakdown
from lexitui.hardware.budget import (
    BANDWIDTH_EFFICIENCY,
    cpu_bandwidth,
    gpu_bandwidth,
    known_gpu_bandwidth,
)

GB = 1e9
# Share of peak bandwidth llama.cpp's decode reaches: ~0.6 on GPUs (published llama.cpp decode
# speeds of 7-8B Q4 models on an RTX 4090 and an H100 are 55-65% of bandwidth / model size), and
# the same works for the CPU guess (2 cores: 0.6 x 20 GB/s / 96.6 MB = 124 tok/s, measured ~130).
EFFICIENCY = BANDWIDTH_EFFICIENCY
# The spread the single estimate stands for: bandwidth efficiency seen across backends and
# drivers runs from about 0.4 to 0.75 of peak, so min/max are 2/3 and 1.25 of the expected.
SLOWEST_SHARE, FASTEST_SHARE = 2 / 3, 1.25

# Loading: the file is read from disk (an NVMe SSD reads ~1.5 GB/s sustained; cached pages far
# faster) and GPU weights cross PCIe (~12 GB/s effective on PCIe 4 x16). The engine's own start
# took 0.4 s for the starter here.
DISK_READ_BYTES_PER_S = 1.5 * GB
PCIE_BYTES_PER_S = 12 * GB
ENGINE_START_S = 0.4


@dataclass(frozen=True)
class Bandwidth:
    bytes_per_s: float
    known: bool  # from the table, not a guess


def bandwidth_of(gpu: GpuInfo) -> Bandwidth:
    """The spec-sheet figure where the GPU is known (hardware/budget.py), else a lower-confidence
    guess by vendor and compute capability."""
    known = known_gpu_bandwidth(gpu)
    return Bandwidth(known, True) if known is not None else Bandwidth(gpu_bandwidth(gpu), False)


def estimate_performance(
    facts: ModelFacts, breakdown: MemoryBreakdown, hardware: HardwareCapabilities
) -> PerformanceEstimate:
    """Decode speed (single stream), load time and memory for ``facts`` placed as ``breakdown``."""
    gpus = {g.id: g for g in hardware.gpus}
    active_share = facts.active_bytes_per_token() / max(1, facts.weight_bytes)
    kv_half_full = 0.5  # the expected case reads a half-filled context
    seconds = seconds_full = 0.0
    confidence = 0.75
    devices = [(breakdown.cpu, None), *((g, gpus.get(g.device)) for g in breakdown.gpus)]
    for memory, gpu in devices:
        # Token embeddings are looked up one row per token, not read whole, unless the CPU
        # also runs the output layer of a tied model, which multiplies by the whole matrix.
        lookup_only = gpu is None and not (facts.tied_embeddings and memory.holds_output)
        weights = memory.weights_bytes - (facts.input_embedding_bytes if lookup_only else 0)
        read = max(0, weights) * active_share
        if gpu is None:
            bandwidth = Bandwidth(cpu_bandwidth(hardware.cpu), False)
            if memory.layers or memory.holds_output:
                confidence = min(confidence, 0.4)
        else:
            bandwidth = bandwidth_of(gpu)
            if not bandwidth.known:
                confidence = min(confidence, 0.5)
        speed = bandwidth.bytes_per_s * EFFICIENCY
        seconds += (read + memory.kv_cache_bytes * kv_half_full) / speed
        seconds_full += (read + memory.kv_cache_bytes) / speed
    if facts.source == "estimated":
        confidence -= 0.15
    if any(g.runs_layers for g in breakdown.gpus) and breakdown.cpu.layers:
        confidence -= 0.1  # hybrid: PCIe traffic and scheduling add variance
    expected = 1 / seconds if seconds > 0 else 0.0
    slowest = (1 / seconds_full if seconds_full > 0 else 0.0) * SLOWEST_SHARE
    return PerformanceEstimate(
        tokens_per_second_min=round(slowest, 1),
        tokens_per_second_max=round(expected * FASTEST_SHARE, 1),
        tokens_per_second_expected=round(expected, 1),
        estimated_load_seconds=round(load_seconds(facts, breakdown), 2),
        estimated_ram_usage=breakdown.total_ram_bytes,
        estimated_vram_usage=breakdown.total_vram_bytes or None,
        confidence_level=round(max(0.1, confidence), 2),
    )


def load_seconds(facts: ModelFacts, breakdown: MemoryBreakdown) -> float:
    """Cold load: read the whole file from disk, push the GPU part over PCIe, start the engine."""
    on_gpu = sum(g.weights_bytes for g in breakdown.gpus)
    size = facts.file_size_bytes or facts.weight_bytes
    return ENGINE_START_S + size / DISK_READ_BYTES_PER_S + on_gpu / PCIE_BYTES_PER_S

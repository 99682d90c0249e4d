"""How much memory a model will hold once loaded, from the compatibility analyzer's numbers.

The load path asks this before starting an engine, so "does it fit" is the same answer the
Discover area and ``lexitui fit`` give for the same file, context and GPU layers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.hardware import HardwareCapabilities
from lexitui.domain.units import format_bytes

DEFAULT_CONTEXT = 4096


@dataclass(frozen=True)
class Footprint:
    ram_bytes: int
    vram_bytes: int
    n_layers: int
    gpu_layers: int
    fits_machine: bool  # the analyzer's verdict against the memory free right now
    verdict: str  # one line for the load dialog
    kv_bytes_per_token: int = 0  # all layers, f16 cache
    engine_note: str | None = None  # why this machine's GPU goes unused, and what fixes it
    context_length: int = DEFAULT_CONTEXT
    parallel: int = 1  # slots; each request gets context_length // parallel tokens

    @property
    def total_bytes(self) -> int:
        return self.ram_bytes + self.vram_bytes

    @property
    def cpu_layers(self) -> int:
        return max(0, self.n_layers - self.gpu_layers)


async def estimate_footprint(
    path: Path, options: ModelLoadOptions, hardware: HardwareCapabilities
) -> Footprint:
    """Read the GGUF header (bounded parser) and plan the load; raises GgufError on a bad file."""
    from lexitui.discovery.compatibility import CompatibilityAnalyzer
    from lexitui.discovery.model_facts import ModelFacts
    from lexitui.domain.discovery import InferenceConfig
    from lexitui.gguf.local import read_local_header
    from lexitui.hardware.unused_gpu import unused_gpu_note

    header = await asyncio.to_thread(read_local_header, path)
    facts = ModelFacts.from_gguf_header(header)
    config = InferenceConfig(
        gpu_layers=-1 if options.gpu_layers is None else options.gpu_layers,
        context_length=options.context_length or DEFAULT_CONTEXT,
        batch_size=options.batch_size or 2048,
        parallel=options.parallel or 1,
    )
    plan = CompatibilityAnalyzer(hardware).plan(facts, config)  # the GPUs an engine can drive
    breakdown = plan.breakdown
    gpu_layers = sum(g.layers for g in breakdown.gpus)
    ram, vram = breakdown.required_ram_bytes, breakdown.total_vram_bytes
    where = f"{gpu_layers}/{breakdown.n_layers} layers on GPU" if breakdown.gpus else "CPU only"
    verdict = (
        f"needs {format_bytes(ram)} RAM"
        + (f" + {format_bytes(vram)} VRAM" if vram else "")
        + f", {where}"
        if plan.fits
        else f"does not fit this machine now: needs {format_bytes(ram)} RAM"
        + (f" + {format_bytes(vram)} VRAM" if vram else "")
    )
    kv_per_token = int(facts.kv_bytes_per_token_per_layer(2.0) * breakdown.n_layers)
    note = unused_gpu_note(hardware.gpus)
    return Footprint(
        ram,
        vram,
        breakdown.n_layers,
        gpu_layers,
        plan.fits,
        verdict,
        kv_per_token,
        note,
        context_length=config.context_length or DEFAULT_CONTEXT,
        parallel=config.parallel,
    )

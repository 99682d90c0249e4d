"""Where every byte of a loaded model lives: weights, KV cache, compute and output buffers, and
the fixed costs of the engine and of each GPU, per device.

The figures follow what llama.cpp itself allocates (formulas and their grounding in
``llama_buffers``), so a breakdown can be checked line by line against the buffer sizes the
engine logs and in total against the engine process's resident memory: bench/bench_estimate.py
does that on the embedded engine and tests/discovery/test_estimate_truth.py keeps the starter
model within 10%.

Placement copies llama.cpp's: ``gpu_layers`` counts the output layer as one more layer,
offloading starts from the *last* layers, token embeddings always stay on the CPU, and layers
split across GPUs in proportion to free memory. Once a GPU backend is in use (even with zero
GPU layers) prompt batches run their matrix products on the first GPU ("op offload"), the CPU
keeps weights in their file layout (no repacking) and its compute buffer holds only inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lexitui.discovery.llama_buffers import (
    ENGINE_BASELINE_BYTES,
    ENGINE_BYTES_PER_VOCAB_TOKEN,
    F32,
    GPU_HOST_OVERHEAD_BYTES,
    GPU_OVERHEAD_BYTES,
    GPU_OVERHEAD_NO_FLASH_ATTENTION_BYTES,
    KV_BYTES_PER_ELEMENT,
    compute_phases,
    kv_bytes_per_layer,
    padded_context,
    place_layers,
)
from lexitui.discovery.model_facts import ModelFacts
from lexitui.domain.hardware import CpuInfo, GpuInfo
from lexitui.domain.memory import DeviceMemory, MemoryBreakdown

if TYPE_CHECKING:
    from lexitui.domain.discovery import InferenceConfig

# llama.cpp's CPU backend copies weights of these types into an interleaved layout at load
# ("CPU_REPACK model buffer size") for faster matrix products on AVX2 and ARM dot-product CPUs
# (AVX-512 adds Q2_K). The copy is anonymous memory on top of the mapped file, whose pages stay
# resident too (measured on a Q4_0 model: RSS held both). Q8_0, Q4_1, other K-quants and F16
# are used in place. Not done once a GPU backend is in use (measured: a Q4_0 model on CUDA with
# zero GPU layers kept only its mapped buffer).
REPACK_TYPES = frozenset({"Q4_0", "Q4_K", "IQ4_NL"})
REPACK_TYPES_AVX512 = REPACK_TYPES | {"Q2_K"}


def repack_types_for(cpu: CpuInfo | None, architecture: str = "x64") -> frozenset[str]:
    """Which weight types the CPU backend repacks on this CPU (none without AVX2 or ARM)."""
    if architecture == "arm64" or cpu is None:
        return REPACK_TYPES  # most x86-64 CPUs of the last ten years have AVX2
    if cpu.supports_avx512:
        return REPACK_TYPES_AVX512
    return REPACK_TYPES if cpu.supports_avx2 else frozenset()


@dataclass(frozen=True)
class GpuBudget:
    """One GPU as the layer split sees it: its free memory sets its share of the layers."""

    id: str
    name: str
    total_bytes: int
    free_bytes: int

    @classmethod
    def from_gpu(cls, gpu: GpuInfo) -> GpuBudget:
        free = gpu.available_vram_bytes if gpu.available_vram_bytes is not None else gpu.vram_bytes
        return cls(gpu.id, gpu.name, gpu.vram_bytes, free)


def estimate_breakdown(
    facts: ModelFacts,
    config: InferenceConfig,
    gpus: Sequence[GpuBudget] = (),
    *,
    flash_attention: bool = True,
    repack_types: frozenset[str] = REPACK_TYPES,
    logits_rows: int | None = None,
) -> MemoryBreakdown:
    """The memory ``facts``' model takes when loaded with ``config`` on these GPUs (none: CPU).

    ``config.context_length`` is the engine's total context (None: the trained one); with
    ``parallel`` slots each sequence gets an equal share of it, as llama.cpp's server does.
    ``logits_rows``: rows of logits a micro-batch may produce; the server (the embedded engine,
    llama-server, Ollama) asks for one per slot, llama.cpp's CLI for every token of a batch.
    """
    kv_type = config.kv_cache_type.lower()
    if kv_type not in KV_BYTES_PER_ELEMENT:
        raise ValueError(f"unknown KV cache type {config.kv_cache_type!r}")
    parallel = max(1, config.parallel)
    n_ctx = padded_context(config.context_length or facts.context_length or 4096)
    ubatch = max(1, min(config.ubatch_size, config.batch_size))
    slots = place_layers(facts.n_layers, config.gpu_layers, [g.free_bytes for g in gpus])
    rows = parallel if logits_rows is None else logits_rows
    phases = compute_phases(facts, n_ctx // parallel, ubatch, rows, flash_attention)
    kv_layer = kv_bytes_per_layer(facts, n_ctx, kv_type)
    layer_bytes = facts.layer_weight_bytes
    cpu_layers = [i for i, d in enumerate(slots[:-1]) if d is None]
    output_on_gpu = slots[-1] is not None

    gpu_records = []
    for index, gpu in enumerate(gpus):
        mine = [i for i, d in enumerate(slots[:-1]) if d == index]
        holds_output = slots[-1] == index
        if not mine and not holds_output and index > 0:
            continue
        compute = phases.peak
        if index == 0:  # op offload stages CPU weights here for prompt batches
            staged_layer = facts.largest_layer_tensor_bytes if cpu_layers else 0
            staged_output = 0 if output_on_gpu else facts.output_layer_bytes
            compute = max(phases.ffn + staged_layer, phases.output + staged_output)
        gpu_records.append(
            DeviceMemory(
                device=gpu.id,
                layers=len(mine),
                holds_output=holds_output,
                weights_bytes=sum(layer_bytes[i] for i in mine)
                + (facts.output_layer_bytes if holds_output else 0),
                kv_cache_bytes=kv_layer * len(mine),
                compute_bytes=compute,
                overhead_bytes=GPU_OVERHEAD_BYTES
                + (0 if flash_attention else GPU_OVERHEAD_NO_FLASH_ATTENTION_BYTES),
            )
        )

    uses_gpu = bool(gpu_records)
    repackable = facts.layer_bytes_of_types(frozenset() if uses_gpu else repack_types)
    cpu_weights = facts.input_embedding_bytes + facts.other_bytes
    cpu_weights += sum(layer_bytes[i] for i in cpu_layers)
    cpu_repack = sum(repackable[i] for i in cpu_layers)
    if not output_on_gpu:
        cpu_weights += facts.output_bytes
        if not uses_gpu and not facts.tied_embeddings and facts.output_type in repack_types:
            cpu_repack += facts.output_bytes
    # Uploading reads weights through the file mapping, and those pages stay resident: measured
    # on CUDA, the whole file was in RSS at every layer count.
    uploaded = sum(r.weights_bytes for r in gpu_records)
    if output_on_gpu and facts.tied_embeddings:
        uploaded -= facts.input_embedding_bytes  # the tied copy's pages are token_embd's own
    cpu = DeviceMemory(
        device="cpu",
        layers=len(cpu_layers),
        holds_output=not output_on_gpu,
        weights_bytes=cpu_weights,
        repacked_weights_bytes=cpu_repack,
        offloaded_file_pages_bytes=max(0, uploaded),
        kv_cache_bytes=kv_layer * len(cpu_layers),
        compute_bytes=phases.host_inputs if uses_gpu else phases.peak,
        output_buffer_bytes=facts.n_vocab * F32 * parallel,
        overhead_bytes=ENGINE_BASELINE_BYTES
        + ENGINE_BYTES_PER_VOCAB_TOKEN * facts.n_vocab
        + (GPU_HOST_OVERHEAD_BYTES if uses_gpu else 0),
    )
    return MemoryBreakdown(
        cpu=cpu,
        gpus=tuple(gpu_records),
        n_layers=facts.n_layers,
        gpu_layers=sum(1 for d in slots if d is not None),
        context_length=n_ctx,
        parallel=parallel,
        kv_cache_type=kv_type,
        flash_attention=flash_attention,
        source=facts.source,
        notes=(facts.basis,) if facts.basis else (),
    )

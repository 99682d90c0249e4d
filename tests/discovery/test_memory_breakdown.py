"""The memory breakdown on hand-built shapes (placement, splits, KV types) and the starter's
real header. Expected values are derived from the shape in each test, not copied from the code."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from lexitui.discovery.llama_buffers import KV_BYTES_PER_ELEMENT
from lexitui.discovery.memory_breakdown import (
    GpuBudget,
    estimate_breakdown,
    repack_types_for,
)
from lexitui.discovery.model_facts import ModelFacts
from lexitui.discovery.records_json import dumps, record_from_json
from lexitui.domain.discovery import InferenceConfig
from lexitui.domain.hardware import CpuInfo
from lexitui.domain.memory import MemoryBreakdown
from lexitui.gguf import read_local_header

GIB, MIB = 1024**3, 1024**2
LAYER = 200 * MIB
EMBED, OUTPUT = 500 * MIB, 600 * MIB


def shape(n_layers: int = 32, *, tied: bool = False, kind: str = "Q6_K") -> ModelFacts:
    return ModelFacts(
        architecture="llama",
        parameter_count=8_000_000_000,
        n_layers=n_layers,
        n_embd=4096,
        n_head=32,
        n_head_kv=8,
        key_length=128,
        value_length=128,
        n_vocab=128256,
        context_length=131072,
        feed_forward_length=14336,
        layer_bytes=tuple(((kind, LAYER),) for _ in range(n_layers)),
        input_embedding_bytes=EMBED,
        output_bytes=0 if tied else OUTPUT,
        output_type="Q6_K",
    )


def gpu(name: str, free_gib: float) -> GpuBudget:
    return GpuBudget(name, "NVIDIA RTX 3090", 24 * GIB, int(free_gib * GIB))


def kv_per_layer(facts: ModelFacts, context: int, kv_type: str = "f16") -> float:
    per_token = facts.n_head_kv * (facts.key_length + facts.value_length)
    return per_token * context * KV_BYTES_PER_ELEMENT[kv_type]


def test_cpu_only_keeps_every_byte_in_ram() -> None:
    facts = shape()
    b = estimate_breakdown(facts, InferenceConfig(context_length=4096))
    assert b.gpus == () and b.total_vram_bytes == 0
    assert b.cpu.weights_bytes == facts.weight_bytes
    assert b.cpu.kv_cache_bytes == pytest.approx(32 * kv_per_layer(facts, 4096))
    assert b.total_ram_bytes == b.cpu.total_bytes
    assert b.cpu.output_buffer_bytes == facts.n_vocab * 4  # one row of f32 logits per slot


def test_zero_gpu_layers_still_use_the_gpu_for_prompt_batches() -> None:
    facts = shape(kind="Q4_0")
    config = InferenceConfig(gpu_layers=0, context_length=4096)
    alone = estimate_breakdown(facts, config)
    b = estimate_breakdown(facts, config, [gpu("g", 20)])
    (offload,) = b.gpus
    assert not offload.runs_layers and offload.weights_bytes == 0 and offload.kv_cache_bytes == 0
    # The output matrix is staged on the GPU for prompt batches, on top of the usual buffer.
    assert offload.compute_bytes > OUTPUT
    assert b.cpu.repacked_weights_bytes == 0 < alone.cpu.repacked_weights_bytes
    assert b.cpu.compute_bytes < alone.cpu.compute_bytes  # the CPU keeps only inputs


def test_partial_offload_takes_the_last_layers_and_counts_the_output_layer() -> None:
    facts = shape()
    b = estimate_breakdown(
        facts, InferenceConfig(gpu_layers=10, context_length=4096), [gpu("g", 20)]
    )
    (on_gpu,) = b.gpus
    # llama.cpp counts the output as layer n_layers: 10 "layers" = 9 blocks + the output.
    assert (on_gpu.layers, on_gpu.holds_output) == (9, True)
    assert on_gpu.weights_bytes == 9 * LAYER + OUTPUT
    assert b.cpu.layers == 23 and not b.cpu.holds_output
    assert b.cpu.weights_bytes == 23 * LAYER + EMBED  # embeddings always stay on the CPU
    assert on_gpu.kv_cache_bytes == pytest.approx(9 * kv_per_layer(facts, 4096))
    assert b.cpu.kv_cache_bytes == pytest.approx(23 * kv_per_layer(facts, 4096))
    assert b.gpu_layers == 10
    # Uploaded weights stay resident as file pages, reclaimable.
    assert b.cpu.offloaded_file_pages_bytes == on_gpu.weights_bytes
    assert b.required_ram_bytes == b.total_ram_bytes - on_gpu.weights_bytes


def test_one_gpu_layer_is_only_the_output_and_a_tied_output_is_copied() -> None:
    facts = shape(tied=True)
    b = estimate_breakdown(facts, InferenceConfig(gpu_layers=1), [gpu("g", 20)])
    (on_gpu,) = b.gpus
    assert on_gpu.layers == 0 and on_gpu.holds_output
    assert on_gpu.weights_bytes == EMBED  # the GPU gets its own copy of the embedding matrix
    assert b.cpu.weights_bytes == 32 * LAYER + EMBED
    assert b.cpu.offloaded_file_pages_bytes == 0  # that copy was read from token_embd's pages


def test_full_offload_splits_layers_by_free_memory() -> None:
    facts = shape(n_layers=40)
    b = estimate_breakdown(facts, InferenceConfig(), [gpu("a", 18), gpu("b", 6)])
    first, second = b.gpus
    # 41 slots (40 layers + output); the first GPU has 18/24 of the free memory, so it takes
    # the slots whose position is under that share, as llama.cpp's split does.
    assert first.layers == math.ceil(18 / 24 * 41)
    assert second.layers == 40 - first.layers
    assert second.holds_output and not first.holds_output
    assert b.cpu.layers == 0 and b.cpu.kv_cache_bytes == 0
    assert all(g.overhead_bytes > 0 for g in b.gpus)


def test_a_gpu_without_layers_gets_nothing() -> None:
    b = estimate_breakdown(shape(), InferenceConfig(gpu_layers=2), [gpu("a", 20), gpu("b", 1)])
    assert [g.device for g in b.gpus] == ["a"]  # both offloaded slots fall in a's share
    assert (b.gpus[0].layers, b.gpus[0].holds_output) == (1, True)


@pytest.mark.parametrize("kv_type", ["q8_0", "q4_0", "q5_1", "f32"])
def test_kv_cache_types_scale_by_their_block_size(kv_type: str) -> None:
    facts = shape()
    f16 = estimate_breakdown(facts, InferenceConfig(gpu_layers=0, context_length=8192))
    other = estimate_breakdown(
        facts, InferenceConfig(gpu_layers=0, context_length=8192, kv_cache_type=kv_type)
    )
    ratio = KV_BYTES_PER_ELEMENT[kv_type] / KV_BYTES_PER_ELEMENT["f16"]
    assert other.cpu.kv_cache_bytes == pytest.approx(f16.cpu.kv_cache_bytes * ratio, rel=1e-6)


def test_unknown_kv_type_is_refused() -> None:
    with pytest.raises(ValueError, match="KV cache type"):
        estimate_breakdown(shape(), InferenceConfig(kv_cache_type="q3_k"))


def test_memory_grows_with_context_on_every_device() -> None:
    facts = shape()
    gpus = [gpu("a", 20)]
    previous: MemoryBreakdown | None = None
    for context in (512, 2048, 8192, 32768):
        b = estimate_breakdown(facts, InferenceConfig(gpu_layers=16, context_length=context), gpus)
        if previous is not None:
            assert b.total_ram_bytes > previous.total_ram_bytes
            assert b.total_vram_bytes > previous.total_vram_bytes
            assert b.cpu.compute_bytes > previous.cpu.compute_bytes
        previous = b


def test_context_is_padded_and_parallel_slots_share_it() -> None:
    facts = shape()
    one = estimate_breakdown(facts, InferenceConfig(gpu_layers=0, context_length=4000))
    assert one.context_length == 4096
    four = estimate_breakdown(facts, InferenceConfig(gpu_layers=0, context_length=4096, parallel=4))
    assert four.cpu.kv_cache_bytes == one.cpu.kv_cache_bytes  # the same cells, shared out
    assert four.cpu.compute_bytes < one.cpu.compute_bytes  # each sequence sees a quarter
    assert four.cpu.output_buffer_bytes == 4 * one.cpu.output_buffer_bytes


def test_flash_attention_off_costs_the_attention_scores() -> None:
    facts = shape()
    config = InferenceConfig(gpu_layers=0, context_length=8192)
    on = estimate_breakdown(facts, config)
    off = estimate_breakdown(facts, config, flash_attention=False)
    assert off.cpu.compute_bytes - on.cpu.compute_bytes >= 512 * 8192 * 4 * facts.n_head


def test_repacked_weights_are_counted_twice_and_once_reclaimable() -> None:
    facts = shape(kind="Q4_0")
    b = estimate_breakdown(facts, InferenceConfig(), repack_types=frozenset({"Q4_0"}))
    assert b.cpu.repacked_weights_bytes == 32 * LAYER
    assert b.reclaimable_ram_bytes == 32 * LAYER
    assert b.required_ram_bytes == b.total_ram_bytes - 32 * LAYER
    plain = estimate_breakdown(facts, InferenceConfig(), repack_types=frozenset())
    assert plain.cpu.repacked_weights_bytes == 0


def test_repack_types_follow_the_cpu() -> None:
    avx2 = CpuInfo("x", 8, 16, supports_avx2=True)
    assert "Q4_K" in repack_types_for(avx2)
    assert "Q2_K" in repack_types_for(replace(avx2, supports_avx512=True))
    assert repack_types_for(CpuInfo("old", 2, 2)) == frozenset()
    assert "Q4_0" in repack_types_for(None, "arm64")


def test_lines_show_each_part_and_the_totals() -> None:
    b = estimate_breakdown(
        shape(), InferenceConfig(gpu_layers=10, context_length=4096), [gpu("g", 20)]
    )
    text = "\n".join(b.lines())
    for part in ("weights", "KV cache", "compute buffer", "output buffer", "engine process"):
        assert part in text
    assert "VRAM of g" in text and "Total VRAM" in text and text.endswith("MiB")
    assert f"{b.total_ram_bytes / MIB:,.1f} MiB" in b.lines()[-1]


def test_the_record_survives_json() -> None:
    b = estimate_breakdown(shape(), InferenceConfig(gpu_layers=10), [gpu("g", 20)])
    data = b.to_json_dict()
    assert data["total_ram_bytes"] == b.total_ram_bytes
    assert data["gpus"][0]["total_bytes"] == b.gpus[0].total_bytes
    assert record_from_json(MemoryBreakdown, json.loads(dumps(b))) == b


def test_starter_header_gives_exact_weights_and_kv(starter_path: Path) -> None:
    header = read_local_header(starter_path)
    facts = ModelFacts.from_gguf_header(header)
    assert facts.source == "gguf" and facts.tied_embeddings
    assert facts.weight_bytes == header.tensor_bytes
    assert sum(facts.layer_weight_bytes) == sum(header.layer_tensor_bytes().values())
    b = estimate_breakdown(facts, InferenceConfig(context_length=2048), [])
    assert b.cpu.weights_bytes == header.tensor_bytes
    layers, kv_heads = header.block_count or 0, header.head_count_kv or 0
    width = (header.key_length or 0) + (header.value_length or 0)
    expected_kv = layers * kv_heads * width * 2 * 2048  # f16 K and V for every cell
    assert b.cpu.kv_cache_bytes == expected_kv
    assert b.cpu.repacked_weights_bytes == 0  # Q4_1 and Q8_0 are used in place

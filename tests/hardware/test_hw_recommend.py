"""The memory arithmetic and the size/quantization recommendation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lexitui.domain.enums import (
    CompatibilityLevel,
    GpuBackend,
    GpuVendor,
    InferenceMode,
    ModelSizeCategory,
    QuantizationType,
)
from lexitui.domain.hardware import CpuInfo, GpuInfo, ModelSizeOption, ModelSizeRecommendation
from lexitui.domain.units import GIB
from lexitui.hardware.apple import apple_gpu
from lexitui.hardware.memory_estimate import (
    BITS_PER_WEIGHT,
    ModelShape,
    estimate_for_category,
    estimate_memory,
)
from lexitui.hardware.nvidia import gpu_infos
from lexitui.hardware.nvml_recorded import RecordedNvml
from lexitui.hardware.recommend import recommend
from lexitui.hardware.settings import HardwareSettings

Size, Q, Mode, C = ModelSizeCategory, QuantizationType, InferenceMode, CompatibilityLevel
DESKTOP = CpuInfo("desktop", 8, 16, supports_avx=True, supports_avx2=True)
SERVER = CpuInfo("server", 112, 224, supports_avx=True, supports_avx2=True, supports_avx512=True)


def _option(
    rec: ModelSizeRecommendation, size: ModelSizeCategory, quant: QuantizationType
) -> ModelSizeOption:
    option = rec.option(size, quant)
    assert option is not None
    return option


def _gpus(recorded: Callable[[str], RecordedNvml], name: str) -> list[GpuInfo]:
    return gpu_infos(recorded(name).read(), None, [])


# --- memory arithmetic ----------------------------------------------------------------------


def test_every_quantization_has_bits_per_weight() -> None:
    assert set(BITS_PER_WEIGHT) == set(QuantizationType)
    assert BITS_PER_WEIGHT[Q.Q4_K_M] == 4.85 and BITS_PER_WEIGHT[Q.Q8_0] == 8.5


def test_llama3_8b_q4_k_m_numbers() -> None:
    est = estimate_memory(8_030_000_000, Q.Q4_K_M, 8192, shape=ModelShape(32, 8, 128))
    assert est.weights_bytes == int(8_030_000_000 * 4.85 / 8)  # ~4.87 GB, the published file size
    assert est.kv_cache_bytes == 2 * 32 * 8 * 128 * 2 * 8192 == GIB  # f16 K and V
    assert est.total_bytes == est.weights_bytes + est.kv_cache_bytes + est.overhead_bytes
    q8_kv = estimate_memory(
        8_030_000_000,
        Q.Q4_K_M,
        8192,
        shape=ModelShape(32, 8, 128),
        kv_bytes_per_element=1.0,
        parallel=2,
    )
    assert q8_kv.kv_cache_bytes == GIB  # half the bytes per element, two slots


def test_raw_bits_and_unknown_shape() -> None:
    est = estimate_memory(7_000_000_000, 4.0, 4096)
    assert est.weights_bytes == 3_500_000_000
    assert est.n_layers == 32  # nearest representative (8B) shape


@pytest.mark.parametrize(
    "call",
    [
        lambda: estimate_memory(0, Q.Q4_0, 512),
        lambda: estimate_memory(1_000_000, Q.Q4_0, -1),
        lambda: estimate_memory(1_000_000, Q.Q4_0, 512, parallel=0),
        lambda: estimate_memory(1_000_000, 0.5, 512),
        lambda: estimate_memory(1_000_000, 64.0, 512),
    ],
)
def test_bad_estimate_inputs(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()


@given(
    params=st.integers(100_000_000, 500_000_000_000),
    context=st.integers(1, 131_072),
    q1=st.sampled_from(list(QuantizationType)),
    q2=st.sampled_from(list(QuantizationType)),
)
def test_estimate_grows_with_bits_and_context(
    params: int, context: int, q1: QuantizationType, q2: QuantizationType
) -> None:
    low, high = sorted((q1, q2), key=lambda q: BITS_PER_WEIGHT[q])
    assert (
        estimate_memory(params, low, context).total_bytes
        <= estimate_memory(params, high, context).total_bytes
    )
    assert (
        estimate_memory(params, low, context).total_bytes
        <= estimate_memory(params, low, context + 1024).total_bytes
    )


def test_sizes_are_ordered() -> None:
    totals = [estimate_for_category(s, Q.Q4_K_M, 4096).total_bytes for s in Size]
    assert totals == sorted(totals) and len(set(totals)) == len(totals)


# --- recommendations ------------------------------------------------------------------------


def test_cpu_only_24gb_box() -> None:
    rec = recommend(DESKTOP, 24 * GIB, [])
    assert rec.recommended_mode is Mode.CPU_ONLY and rec.estimated_gpu_layers == 0
    assert rec.max_recommended_size is Size.TINY
    assert rec.recommended_context_length <= 8192
    # A 14B model loads in 20 GiB but is too slow to recommend on eight cores.
    medium = rec.option(Size.MEDIUM, Q.Q4_K_M)
    assert medium is not None and medium.compatibility in (C.CONSTRAINED, C.MARGINAL)
    assert _option(rec, Size.XLARGE, Q.Q4_K_M).compatibility is C.INCOMPATIBLE
    assert rec.explanation and "CPU" in rec.explanation and "estimate" in rec.explanation
    assert len(rec.available_options) == len(Size) * len(Q)


def test_eight_h100s_fit_xxlarge(recorded: Callable[[str], RecordedNvml]) -> None:
    rec = recommend(SERVER, 2048 * GIB, _gpus(recorded, "nvml_8x_h100.json"))
    assert rec.max_recommended_size is Size.XXLARGE
    assert rec.recommended_mode is Mode.FULL_GPU and rec.estimated_gpu_layers == 88
    xx = rec.option(Size.XXLARGE, Q.Q4_K_M)
    assert xx is not None and xx.compatibility in (C.OPTIMAL, C.COMFORTABLE)
    assert xx.mode is Mode.FULL_GPU and xx.estimated_tokens_per_second
    assert rec.recommended_context_length >= 8192
    assert "8x NVIDIA H100 80GB HBM3" in (rec.explanation or "")


def test_one_gpu_prefers_a_fit_that_stays_on_the_gpu(
    recorded: Callable[[str], RecordedNvml],
) -> None:
    rec = recommend(DESKTOP, 64 * GIB, _gpus(recorded, "nvml_1_gpu_rtx4090.json"))
    assert (rec.max_recommended_size, rec.recommended_quantization) == (Size.LARGE, Q.Q4_K_M)
    assert rec.recommended_mode is Mode.FULL_GPU


def test_vram_headroom_changes_the_result(recorded: Callable[[str], RecordedNvml]) -> None:
    gpus = _gpus(recorded, "nvml_1_gpu_rtx4090.json")
    roomy = recommend(DESKTOP, 64 * GIB, gpus, HardwareSettings(vram_headroom_mb=512))
    tight = recommend(DESKTOP, 64 * GIB, gpus, HardwareSettings(vram_headroom_mb=8192))
    assert roomy.recommended_mode is Mode.FULL_GPU
    assert tight.recommended_mode is Mode.HYBRID_GPU_CPU
    assert 0 < tight.estimated_gpu_layers < 64
    assert "8192 MiB headroom" in (tight.explanation or "")


def test_ram_headroom_changes_the_result() -> None:
    small = recommend(DESKTOP, 8 * GIB, [], HardwareSettings(ram_headroom_mb=1024))
    none_left = recommend(DESKTOP, 8 * GIB, [], HardwareSettings(ram_headroom_mb=7 * 1024))
    assert _option(small, Size.SMALL, Q.Q4_K_M).compatibility is not C.INCOMPATIBLE
    assert _option(none_left, Size.SMALL, Q.Q4_K_M).compatibility is C.INCOMPATIBLE


def test_gpu_layers_policy(recorded: Callable[[str], RecordedNvml]) -> None:
    gpus = _gpus(recorded, "nvml_1_gpu_rtx4090.json")
    off = recommend(DESKTOP, 64 * GIB, gpus, HardwareSettings(gpu_layers_policy="none"))
    assert off.recommended_mode is Mode.CPU_ONLY and "gpu_layers_policy" in (off.explanation or "")
    forced = recommend(DESKTOP, 64 * GIB, gpus, HardwareSettings(gpu_layers_policy=20))
    assert forced.recommended_mode is Mode.HYBRID_GPU_CPU and forced.estimated_gpu_layers == 20
    everything = recommend(DESKTOP, 64 * GIB, gpus, HardwareSettings(gpu_layers_policy="all"))
    # "all" forbids splitting: a 70B model cannot be placed on one 24 GB card at all.
    xl = everything.option(Size.XLARGE, Q.Q4_K_M)
    assert xl is not None and xl.compatibility is C.INCOMPATIBLE and xl.mode is Mode.FULL_GPU
    auto = recommend(DESKTOP, 64 * GIB, gpus).option(Size.XLARGE, Q.Q4_K_M)
    assert auto is not None and auto.mode is Mode.HYBRID_GPU_CPU


def test_allowed_gpus_setting_limits_the_budget(recorded: Callable[[str], RecordedNvml]) -> None:
    gpus = _gpus(recorded, "nvml_8x_h100.json")
    one = recommend(SERVER, 2048 * GIB, gpus, HardwareSettings(allowed_gpus=("nvidia:3",)))
    assert "NVIDIA H100 80GB HBM3:" in (one.explanation or "")
    xx8 = recommend(SERVER, 2048 * GIB, gpus).option(Size.XXLARGE, Q.Q8_0)
    xx1 = one.option(Size.XXLARGE, Q.Q8_0)
    assert xx8 is not None and xx8.mode is Mode.FULL_GPU
    assert xx1 is not None and xx1.mode is Mode.HYBRID_GPU_CPU


def test_integrated_intel_gpu_adds_nothing() -> None:
    intel = GpuInfo(
        "intel:card0", "Intel GPU", GpuVendor.INTEL, 0, GpuBackend.SYCL, is_integrated=True
    )
    assert recommend(DESKTOP, 24 * GIB, [intel]) == recommend(DESKTOP, 24 * GIB, [])


def test_apple_unified_memory_runs_on_metal() -> None:
    rec = recommend(
        CpuInfo("Apple M2 Max", 12, 12), 64 * GIB, [apple_gpu("Apple M2 Max", 64 * GIB, 40 * GIB)]
    )
    assert rec.recommended_mode is Mode.FULL_GPU
    assert rec.max_recommended_size is Size.LARGE
    # No hybrid on unified memory: past the Metal working set there is only the CPU.
    xl = rec.option(Size.XLARGE, Q.Q8_0)
    assert xl is not None and xl.mode is Mode.CPU_ONLY
    assert "unified memory usable by Metal" in (rec.explanation or "")


def test_nothing_fits_says_so() -> None:
    rec = recommend(CpuInfo("tiny", 4, 4), 2 * GIB, [])
    assert all(o.compatibility is C.INCOMPATIBLE for o in rec.available_options)
    assert rec.max_recommended_size is Size.TINY
    assert "Not even a tiny model fits" in (rec.explanation or "")


def test_slow_machine_gets_honest_wording() -> None:
    rec = recommend(CpuInfo("old", 2, 2), 8 * GIB, [])
    chosen = _option(rec, rec.max_recommended_size, rec.recommended_quantization)
    assert chosen.compatibility is C.CONSTRAINED
    assert "Nothing runs comfortably here" in (rec.explanation or "")

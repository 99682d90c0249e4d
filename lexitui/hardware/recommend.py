"""Which model sizes and quantizations this machine runs well, and how to run them.

``place`` decides where one model's bytes would live (all on GPU, split, or CPU) and rates it;
``recommend`` rates every size x quantization pair and picks the largest size that runs at least
comfortably. "Recommended" means usable speed, not "barely loads": a 14B model fits a 24 GB
CPU-only box but decodes at a few tokens/s, so that box is recommended a smaller one.
"""

from __future__ import annotations

from dataclasses import dataclass

from lexitui.domain.enums import (
    CompatibilityLevel,
    InferenceMode,
    ModelSizeCategory,
    QuantizationType,
)
from lexitui.domain.hardware import CpuInfo, GpuInfo, ModelSizeOption, ModelSizeRecommendation
from lexitui.domain.units import format_bytes
from lexitui.hardware.budget import (
    BANDWIDTH_EFFICIENCY,
    Budget,
    budget_for,
    describe_gpus,
)
from lexitui.hardware.memory_estimate import (
    REPRESENTATIVE,
    MemoryEstimate,
    estimate_for_category,
)
from lexitui.hardware.settings import HardwareSettings

# The quantisations the size table shows as columns, from the largest to the smallest.
TABLE_QUANTS = (
    QuantizationType.Q8_0,
    QuantizationType.Q6_K,
    QuantizationType.Q5_K_M,
    QuantizationType.Q4_K_M,
    QuantizationType.IQ4_XS,
    QuantizationType.Q3_K_M,
    QuantizationType.Q2_K,
)
TABLE_CONTEXT = 8192  # the options table compares every cell at one context length
MIN_CONTEXT = 2048
CONTEXT_CHOICES = (32768, 16384, 8192, 4096, 2048)
CPU_MAX_CONTEXT = 8192  # longer prompts take minutes to process on a CPU
OPTIMAL_TPS, COMFORTABLE_TPS, CONSTRAINED_TPS = 25.0, 10.0, 3.0
OPTIMAL_MAX_FILL = 0.85  # an optimal fit leaves room for a longer context or a second model

RANK = {level: i for i, level in enumerate(CompatibilityLevel)}  # lower is better
MODE_ORDER = {InferenceMode.FULL_GPU: 0, InferenceMode.HYBRID_GPU_CPU: 1, InferenceMode.CPU_ONLY: 2}
SEARCH_QUANTS = (QuantizationType.Q4_K_M, QuantizationType.IQ4_XS, QuantizationType.Q3_K_M)
UPGRADE_QUANTS = (QuantizationType.Q8_0, QuantizationType.Q6_K, QuantizationType.Q5_K_M)
FALLBACK_QUANTS = (*SEARCH_QUANTS, QuantizationType.Q2_K, QuantizationType.IQ2_XXS)


@dataclass(frozen=True)
class Placement:
    mode: InferenceMode
    fits: bool
    gpu_layers: int
    tokens_per_second: float | None  # an estimate from memory bandwidth, see budget.py
    fill: float  # share of the holding budget used


def place(estimate: MemoryEstimate, budget: Budget, settings: HardwareSettings) -> Placement:
    """Where this model would run under the settings' GPU-layer policy, and roughly how fast."""
    total, layers = estimate.total_bytes, estimate.n_layers
    policy = settings.gpu_layers_policy
    if budget.has_gpu and policy != "none":
        want = layers if policy == "all" else policy if isinstance(policy, int) else None
        if (want is None and total <= budget.gpu_bytes) or (want is not None and want >= layers):
            fits = total <= budget.gpu_bytes
            return Placement(
                InferenceMode.FULL_GPU,
                fits,
                layers if fits else 0,
                _tps(estimate, budget, layers),
                total / budget.gpu_bytes,
            )
        if not budget.unified and want != 0:
            hybrid = _hybrid(estimate, budget, want)
            if hybrid is not None:
                return hybrid
    fits = total <= budget.ram_bytes
    fill = total / budget.ram_bytes if budget.ram_bytes else float("inf")
    return Placement(InferenceMode.CPU_ONLY, fits, 0, _tps(estimate, budget, 0), fill)


def _hybrid(estimate: MemoryEstimate, budget: Budget, want: int | None) -> Placement | None:
    # Each offloaded layer takes its weights and its KV slice; the runtime overhead stays on GPU.
    layers = estimate.n_layers
    per_layer = (estimate.weights_bytes + estimate.kv_cache_bytes) / layers
    room = budget.gpu_bytes - estimate.overhead_bytes
    n = min(layers - 1, int(room // per_layer)) if want is None else min(want, layers)
    if n <= 0:
        return None
    on_gpu = n * per_layer + estimate.overhead_bytes
    in_ram = (layers - n) * per_layer
    fits = on_gpu <= budget.gpu_bytes and in_ram <= budget.ram_bytes
    fill = max(on_gpu / budget.gpu_bytes, in_ram / budget.ram_bytes if budget.ram_bytes else 1.0)
    return Placement(InferenceMode.HYBRID_GPU_CPU, fits, n, _tps(estimate, budget, n), fill)


def _tps(estimate: MemoryEstimate, budget: Budget, gpu_layers: int) -> float:
    """Single-stream decode tokens/s: each token reads all weights once, each part at the speed of
    the memory holding it. KV reads are left out (they matter only near a full context)."""
    share = gpu_layers / estimate.n_layers
    seconds = estimate.weights_bytes * (1 - share) / budget.cpu_bandwidth
    if share > 0:
        seconds += estimate.weights_bytes * share / budget.gpu_bandwidth
    return BANDWIDTH_EFFICIENCY / seconds


def rate(
    size: ModelSizeCategory,
    quant: QuantizationType,
    context: int,
    budget: Budget,
    settings: HardwareSettings,
) -> tuple[ModelSizeOption, Placement]:
    estimate = estimate_for_category(size, quant, context)
    placed = place(estimate, budget, settings)
    tps = placed.tokens_per_second
    if not placed.fits:
        # Might still load with a short context (the roadmap's "aggressive settings").
        short = place(estimate_for_category(size, quant, MIN_CONTEXT), budget, settings)
        level = CompatibilityLevel.MARGINAL if short.fits else CompatibilityLevel.INCOMPATIBLE
    elif tps is None or tps < CONSTRAINED_TPS:
        level = CompatibilityLevel.MARGINAL
    elif tps < COMFORTABLE_TPS:
        level = CompatibilityLevel.CONSTRAINED
    elif tps >= OPTIMAL_TPS and placed.fill <= OPTIMAL_MAX_FILL:
        level = CompatibilityLevel.OPTIMAL
    else:
        level = CompatibilityLevel.COMFORTABLE
    option = ModelSizeOption(
        size,
        quant,
        level,
        estimate.total_bytes,
        None if tps is None else round(tps, 1),
        placed.mode,
    )
    return option, placed


def _good(option: ModelSizeOption) -> bool:
    return RANK[option.compatibility] <= RANK[CompatibilityLevel.COMFORTABLE]


def _no_worse(option: ModelSizeOption, than: ModelSizeOption) -> bool:
    """Same or better rating, and the weights stay at least as close to the GPU."""
    return (
        RANK[option.compatibility] <= RANK[than.compatibility]
        and MODE_ORDER[option.mode] <= MODE_ORDER[than.mode]
    )


def recommend(
    cpu: CpuInfo,
    total_ram_bytes: int,
    gpus: list[GpuInfo] | tuple[GpuInfo, ...],
    settings: HardwareSettings | None = None,
) -> ModelSizeRecommendation:
    settings = settings or HardwareSettings()
    budget = budget_for(cpu, total_ram_bytes, gpus, settings)
    table = {
        (s, q): rate(s, q, TABLE_CONTEXT, budget, settings)
        for s in ModelSizeCategory
        for q in QuantizationType
    }
    options = tuple(option for option, _ in table.values())
    choice = _choose(table)
    if choice is None:
        return _nothing_fits(options, budget, settings)
    size, quant = choice
    context = _context(size, quant, table[choice][0], budget, settings)
    option, placed = rate(size, quant, context, budget, settings)
    return ModelSizeRecommendation(
        max_recommended_size=size,
        recommended_quantization=quant,
        recommended_context_length=context,
        estimated_gpu_layers=placed.gpu_layers,
        recommended_mode=placed.mode,
        explanation=_explain(option, placed, context, budget, settings),
        available_options=options,
    )


Table = dict[tuple[ModelSizeCategory, QuantizationType], tuple[ModelSizeOption, Placement]]


def _choose(table: Table) -> tuple[ModelSizeCategory, QuantizationType] | None:
    sizes = list(ModelSizeCategory)
    for size in reversed(sizes):
        good = [q for q in SEARCH_QUANTS if _good(table[size, q][0])]
        if not good:
            continue
        # All-on-GPU beats a split (a split decodes several times slower), then quality in
        # SEARCH_QUANTS order. "Optimal" vs "comfortable" does not decide: preferring it would
        # drift to ever smaller quants just to leave memory unused.
        base = min(good, key=lambda q: MODE_ORDER[table[size, q][0].mode])
        # Spend spare memory on quality only where that costs no rating and no GPU residency.
        better = next(
            (q for q in UPGRADE_QUANTS if _no_worse(table[size, q][0], table[size, base][0])), base
        )
        return size, better
    # Nothing runs comfortably: the smallest size at the best quant that loads at all.
    smallest = sizes[0]
    for quant in FALLBACK_QUANTS:
        if RANK[table[smallest, quant][0].compatibility] < RANK[CompatibilityLevel.MARGINAL]:
            return smallest, quant
    return None


def _context(
    size: ModelSizeCategory,
    quant: QuantizationType,
    at_table: ModelSizeOption,
    budget: Budget,
    settings: HardwareSettings,
) -> int:
    """The longest context that keeps the choice's rating and placement (a longer context that
    pushes layers off the GPU costs more speed than it is worth by default)."""
    for context in CONTEXT_CHOICES:
        if at_table.mode is InferenceMode.CPU_ONLY and context > CPU_MAX_CONTEXT:
            continue
        option, placed = rate(size, quant, context, budget, settings)
        if placed.fits and _no_worse(option, at_table):
            return context
    return MIN_CONTEXT


def _where(budget: Budget, settings: HardwareSettings) -> str:
    if budget.unified:
        return (
            f"{describe_gpus(budget.gpus)}: {format_bytes(budget.gpu_bytes)} of "
            f"{format_bytes(budget.gpus[0].vram_bytes)} unified memory usable by Metal"
        )
    if budget.has_gpu:
        what = "usable VRAM"
        return (
            f"{describe_gpus(budget.gpus)}: {format_bytes(budget.gpu_bytes)} of {what} after "
            f"{settings.vram_headroom_mb} MiB headroom per GPU, plus "
            f"{format_bytes(budget.ram_bytes)} of RAM"
        )
    reason = (
        'GPU use is off (gpu_layers_policy = "none")'
        if settings.cpu_only
        else "The installed llama.cpp engine cannot use this machine's GPU"
        if budget.undriven_gpus
        else "No GPU that can hold model weights was found"
    )
    simd = (
        "AVX-512"
        if budget.cpu.supports_avx512
        else "AVX2"
        if budget.cpu.supports_avx2
        else ("AVX" if budget.cpu.supports_avx else "no AVX")
    )
    return (
        f"{reason}, so inference runs on the CPU ({budget.cpu.physical_cores} cores, {simd}) "
        f"from {format_bytes(budget.ram_bytes)} of RAM after "
        f"{settings.ram_headroom_mb} MiB headroom"
    )


def _explain(
    option: ModelSizeOption,
    placed: Placement,
    context: int,
    budget: Budget,
    settings: HardwareSettings,
) -> str:
    rep = REPRESENTATIVE[option.size]
    where = {
        InferenceMode.FULL_GPU: f"all {placed.gpu_layers} layers on the GPU",
        InferenceMode.HYBRID_GPU_CPU: f"{placed.gpu_layers} of {rep.shape.n_layers} layers on "
        "the GPU and the rest on the CPU",
        InferenceMode.CPU_ONLY: "all layers on the CPU",
    }[placed.mode]
    tps = placed.tokens_per_second or 0.0
    lead = (
        "The largest size that runs at least comfortably is"
        if _good(option)
        else "Nothing runs comfortably here; the best start is"
    )
    return (
        f"{_where(budget, settings)}. {lead} {option.size.value} (like {rep.example}) at "
        f"{option.quantization.value}: about {format_bytes(option.estimated_memory_bytes)} with "
        f"{context} tokens of context (the recommended length), {where}, rated "
        f"{option.compatibility.value}. "
        f"Expect roughly {tps:.0f} tokens/s (an estimate from memory bandwidth, not a "
        "measurement)."
    )


def _nothing_fits(
    options: tuple[ModelSizeOption, ...], budget: Budget, settings: HardwareSettings
) -> ModelSizeRecommendation:
    return ModelSizeRecommendation(
        max_recommended_size=ModelSizeCategory.TINY,
        recommended_quantization=QuantizationType.Q4_K_M,
        recommended_context_length=MIN_CONTEXT,
        estimated_gpu_layers=0,
        recommended_mode=InferenceMode.CPU_ONLY,
        explanation=(
            f"{_where(budget, settings)}. Not even a {ModelSizeCategory.TINY.value} "
            "model fits in that memory; lower the headroom settings or free memory."
        ),
        available_options=options,
    )

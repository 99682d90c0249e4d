"""The roadmap's compatibility analyzer: will this model (each variant of it) run here, how, and
how well.

For each variant it finds the best way to load it (all layers on the GPUs, a GPU/CPU split, or
CPU only), the most GPU layers and the longest context that fit with llama.cpp's own safety
margin, and rates the result. Memory comes from ``memory_breakdown`` (the same buffers llama.cpp
allocates), speed from ``performance``. It works from the GGUF header when ``facts_for`` can read
one, from file size and parameter count otherwise, and every verdict says which.

Levels (``fill`` = the largest share of any device's usable memory the model takes; usable =
free memory less llama.cpp's 1 GiB margin):

- INCOMPATIBLE: does not fit even with the shortest context, or cannot be loaded by llama.cpp.
- MARGINAL: fits only with under 2048 tokens of context, or decodes under 3 tokens/s, or
  fills over 95%.
- CONSTRAINED: split between GPU and CPU, or under 10 tokens/s, or fills over 85%.
- OPTIMAL: one kind of memory holds it all, 25+ tokens/s, fill at most 70%, and the context is
  at least 8192 tokens (or the trained length when that is shorter).
- COMFORTABLE: everything else that fits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from lexitui.discovery.compatibility_text import (
    describe_fit,
    license_warnings,
    no_verdict,
    rationale,
    summarize,
    variant_warnings,
)
from lexitui.discovery.measured import MeasuredLookup, with_measured_speed
from lexitui.discovery.memory_breakdown import (
    GpuBudget,
    estimate_breakdown,
    repack_types_for,
)
from lexitui.discovery.model_facts import ModelFacts
from lexitui.discovery.performance import estimate_performance
from lexitui.discovery.quant_names import (
    is_unloadable_quant,
    parameter_count,
    quant_label,
    variant_quality,
)
from lexitui.domain.discovery import (
    InferenceConfig,
    ModelCompatibility,
    ModelVariant,
    PerformanceEstimate,
    RemoteModel,
    VariantCompatibility,
    VariantRecommendation,
)
from lexitui.domain.enums import CompatibilityLevel, GpuVendor, InferenceMode, ModelFormat
from lexitui.domain.hardware import HardwareCapabilities
from lexitui.domain.memory import MemoryBreakdown
from lexitui.domain.units import GIB
from lexitui.engine.devices import EngineInfo, can_drive
from lexitui.hardware.budget import is_offload_target

DEVICE_MARGIN_BYTES = 1 * GIB  # llama.cpp's fit step keeps this much free on every device
MIN_CONTEXT = 512
USEFUL_CONTEXT = 2048
FULL_CONTEXT = 8192
HYBRID_MAX_CONTEXT = 8192  # a longer context would push more layers off the GPU
CONTEXT_STEPS = (131072, 65536, 32768, 16384, 8192, 4096, 2048, 1024, 512)
OPTIMAL_MAX_FILL, CONSTRAINED_FILL, MARGINAL_FILL = 0.70, 0.85, 0.95
FILL_TIERS = (OPTIMAL_MAX_FILL, CONSTRAINED_FILL, MARGINAL_FILL, 1.0)
OPTIMAL_TPS, COMFORTABLE_TPS, MARGINAL_TPS = 25.0, 10.0, 3.0
LEVEL_RANK = {level: i for i, level in enumerate(CompatibilityLevel)}  # lower is better
RUNNABLE_FORMATS = (ModelFormat.GGUF,)

FactsFor = Callable[[ModelVariant], Awaitable[ModelFacts]]


@dataclass(frozen=True)
class Plan:
    """One way to load a model, with its memory and whether it fits."""

    config: InferenceConfig
    breakdown: MemoryBreakdown
    fits: bool
    fill: float

    @property
    def mode(self) -> InferenceMode:
        if not any(g.runs_layers for g in self.breakdown.gpus):
            return InferenceMode.CPU_ONLY
        return InferenceMode.HYBRID_GPU_CPU if self.breakdown.cpu.layers else InferenceMode.FULL_GPU


class CompatibilityAnalyzer:
    def __init__(
        self,
        hardware: HardwareCapabilities,
        facts_for: FactsFor | None = None,
        measured: MeasuredLookup | None = None,
        engines: tuple[EngineInfo, ...] | None = None,
    ) -> None:
        """``measured``: decode speed measured here by GGUF file name (see ``measured.py``).
        ``engines``: the llama.cpp engines installed here (probed when None); a GPU none of
        them can drive gets no layers, so the plan is the one that will really run."""
        # Every verdict, warning and speed below sees only the GPUs an engine can drive.
        drivable = tuple(g for g in hardware.gpus if can_drive(g, engines))
        hardware = replace(hardware, gpus=drivable) if drivable != hardware.gpus else hardware
        self.hardware = hardware
        self.facts_for = facts_for
        self.measured = measured
        self.gpus = tuple(g for g in hardware.gpus if is_offload_target(g))
        self.unified = any(g.vendor is GpuVendor.APPLE for g in self.gpus)
        self.budgets = tuple(GpuBudget.from_gpu(g) for g in self.gpus)
        self.repack = repack_types_for(hardware.cpu, hardware.architecture)
        ram = hardware.available_ram_bytes or hardware.total_ram_bytes
        self.ram_capacity = max(0, ram - DEVICE_MARGIN_BYTES)
        self.gpu_capacity = {b.id: max(0, b.free_bytes - DEVICE_MARGIN_BYTES) for b in self.budgets}

    # --- the roadmap's API ------------------------------------------------------------------------

    async def analyze(self, model: RemoteModel) -> ModelCompatibility:
        fits = [await self._verdict(model, v) for v in model.variants]
        ranked = self._rank(fits)
        best = ranked[0] if ranked else None
        # No variant: incompatible. Variants but no header read: no verdict (None).
        levels = [f.level for f in fits if f.level is not None]
        overall = min(levels, key=LEVEL_RANK.__getitem__) if levels else None
        if not fits:
            overall = CompatibilityLevel.INCOMPATIBLE
        return ModelCompatibility(
            model_id=model.id,
            overall_level=overall,
            variant_compatibilities=tuple(fits),
            recommended_variant=best.variant if best else None,
            recommended_config=best.recommended_config if best else None,
            summary=summarize(model, fits, best),
            warnings=license_warnings(model),
        )

    async def analyze_variant(
        self,
        variant: ModelVariant,
        facts: ModelFacts | None = None,
        config: InferenceConfig | None = None,
        *,
        choose_gpu_layers: bool = False,
    ) -> VariantCompatibility:
        """The verdict for one variant. Without ``config`` the analyzer picks the placement and
        context; with one it rates exactly that config, except a ``context_length`` of None
        (the longest that fits is picked) and, with ``choose_gpu_layers``, the GPU layers."""
        label = quant_label(variant)
        if variant.format not in RUNNABLE_FORMATS or is_unloadable_quant(label):
            return VariantCompatibility(
                variant=variant,
                level=CompatibilityLevel.INCOMPATIBLE,
                recommended_mode=InferenceMode.CPU_ONLY,
                reason=f"{variant.format.value} files cannot run on llama.cpp",
                warnings=variant_warnings(variant, label, None, None, self.hardware, 0),
            )
        if facts is None:
            try:
                facts = await self._variant_facts(variant, None)
            except (OSError, ValueError) as exc:  # GgufError is a ValueError
                return no_verdict(variant, exc)
        plan = self.plan(facts, config, choose_gpu_layers=choose_gpu_layers)
        perf = self._refined(variant, estimate_performance(facts, plan.breakdown, self.hardware))
        level = self._level(plan, perf, facts)
        # A context the caller pinned is a choice, not a limit worth warning about.
        trained = None if config is not None and config.context_length else facts.context_length
        return VariantCompatibility(
            variant=variant,
            level=level,
            recommended_mode=plan.mode,
            recommended_gpu_layers=plan.breakdown.gpu_layers,
            recommended_context_length=plan.config.context_length,
            reason=describe_fit(plan, perf, facts, self, level),
            warnings=variant_warnings(variant, label, plan, perf, self.hardware, trained),
            breakdown=plan.breakdown,
            performance=perf,
        )

    async def recommendations(self, model: RemoteModel) -> list[VariantRecommendation]:
        return self._rank([await self._verdict(model, v) for v in model.variants])

    async def _verdict(self, model: RemoteModel, variant: ModelVariant) -> VariantCompatibility:
        """One variant's verdict, or none when its own header could not be read: sizes guessed
        for a file that is broken (or hostile) would be a verdict on a file that does not
        exist."""
        try:
            facts = await self._facts(model, variant)
        except (OSError, ValueError) as exc:  # GgufError is a ValueError
            return no_verdict(variant, exc)
        return await self.analyze_variant(variant, facts)

    async def estimate_performance(
        self, variant: ModelVariant, config: InferenceConfig
    ) -> PerformanceEstimate:
        facts = await self._variant_facts(variant, None)
        plan = self.plan(facts, config)
        return self._refined(variant, estimate_performance(facts, plan.breakdown, self.hardware))

    def _refined(self, variant: ModelVariant, estimate: PerformanceEstimate) -> PerformanceEstimate:
        """The speed measured here for this very file replaces the estimate (and so weighs in
        the level). It was measured with the load options used then, which on a CPU-only
        machine match the plan; on a GPU it may have been another split."""
        if self.measured is None:
            return estimate
        tokens_per_second = self.measured(PurePosixPath(variant.filename).name)
        return with_measured_speed(estimate, tokens_per_second) if tokens_per_second else estimate

    # --- placement search -------------------------------------------------------------------------

    def plan(
        self,
        facts: ModelFacts,
        config: InferenceConfig | None = None,
        *,
        choose_gpu_layers: bool = False,
    ) -> Plan:
        """The best placement: ``config``'s where it pins one, searched where it does not."""
        base = config or InferenceConfig()
        contexts = self._contexts(facts, base.context_length)
        if config is not None and not choose_gpu_layers:
            return self._longest(facts, base, contexts)
        if self.budgets:
            full = self._longest(facts, replace(base, gpu_layers=-1), contexts)
            if full.fits and (full.config.context_length or 0) >= self._useful(facts):
                return full
            hybrid = self._hybrid(facts, base, contexts)
            if hybrid is not None:
                return hybrid
            if full.fits:
                return full
            if self.unified:
                return full  # no CPU/GPU split on unified memory
        cpu = self._longest(facts, replace(base, gpu_layers=0), contexts)
        if cpu.fits or not self.budgets:
            return cpu
        # A GPU too full even for llama.cpp's op-offload buffers: hide it (CUDA_VISIBLE_DEVICES=)
        return self._longest(facts, replace(base, gpu_layers=0), contexts, use_gpus=False)

    def evaluate(self, facts: ModelFacts, config: InferenceConfig, use_gpus: bool = True) -> Plan:
        gpus = self.budgets if use_gpus else ()
        breakdown = estimate_breakdown(facts, config, gpus, repack_types=self.repack)
        # Mapped originals of repacked weights are clean file pages the kernel reclaims first.
        ram_need = breakdown.required_ram_bytes
        fills = [ram_need / max(1, self.ram_capacity)]
        for gpu in breakdown.gpus:
            fills.append(gpu.total_bytes / max(1, self.gpu_capacity.get(gpu.device, 0)))
        if self.unified:  # one pool: what the GPU holds comes out of RAM too
            whole = ram_need + breakdown.total_vram_bytes
            fills.append(whole / max(1, self.ram_capacity))
        fill = max(fills)
        return Plan(config, breakdown, fill <= 1.0, fill)

    def _contexts(self, facts: ModelFacts, pinned: int | None) -> list[int]:
        if pinned:
            return [pinned]
        trained = facts.context_length or FULL_CONTEXT
        steps = [c for c in CONTEXT_STEPS if c <= trained]
        return steps or [trained]

    def _useful(self, facts: ModelFacts) -> int:
        return min(USEFUL_CONTEXT, facts.context_length or USEFUL_CONTEXT)

    def _longest(
        self,
        facts: ModelFacts,
        base: InferenceConfig,
        contexts: list[int],
        use_gpus: bool = True,
    ) -> Plan:
        """The longest context within the roomiest fill tier that still allows a full-size
        context (8192, or the trained length); else the longest that fits; else the shortest
        (which does not fit: the caller reports that)."""
        plans = [self.evaluate(facts, replace(base, context_length=c), use_gpus) for c in contexts]
        wanted = min(FULL_CONTEXT, facts.context_length or FULL_CONTEXT)
        best: Plan | None = None
        for limit in FILL_TIERS:
            longest = next((p for p in plans if p.fill <= limit), None)
            if longest is None:
                continue
            best = best or longest
            if (longest.config.context_length or 0) >= wanted:
                return longest
        return best or plans[-1]

    def _hybrid(self, facts: ModelFacts, base: InferenceConfig, contexts: list[int]) -> Plan | None:
        """The most GPU layers that fit, at the longest context up to HYBRID_MAX_CONTEXT."""
        if self.unified:
            return None
        for context in (c for c in contexts if c <= HYBRID_MAX_CONTEXT):
            config = replace(base, context_length=context)
            low, high, best = 1, facts.n_layers, None
            while low <= high:  # VRAM use grows with the layer count: bisect
                middle = (low + high) // 2
                plan = self.evaluate(facts, replace(config, gpu_layers=middle))
                gpu_fits = all(
                    g.total_bytes <= self.gpu_capacity.get(g.device, 0) for g in plan.breakdown.gpus
                )
                if gpu_fits:
                    best, low = plan, middle + 1
                else:
                    high = middle - 1
            if best is not None and best.fits:
                return best
        return None

    # --- rating -----------------------------------------------------------------------------------

    def _level(
        self, plan: Plan, perf: PerformanceEstimate, facts: ModelFacts
    ) -> CompatibilityLevel:
        if not plan.fits:
            return CompatibilityLevel.INCOMPATIBLE
        tps = perf.tokens_per_second_expected
        context = plan.config.context_length or 0
        if context < self._useful(facts) or tps < MARGINAL_TPS or plan.fill > MARGINAL_FILL:
            return CompatibilityLevel.MARGINAL
        if plan.mode is InferenceMode.HYBRID_GPU_CPU or tps < COMFORTABLE_TPS:
            return CompatibilityLevel.CONSTRAINED
        if plan.fill > CONSTRAINED_FILL:
            return CompatibilityLevel.CONSTRAINED
        full = min(FULL_CONTEXT, facts.context_length or FULL_CONTEXT)
        if tps >= OPTIMAL_TPS and plan.fill <= OPTIMAL_MAX_FILL and context >= full:
            return CompatibilityLevel.OPTIMAL
        return CompatibilityLevel.COMFORTABLE

    def _rank(self, fits: list[VariantCompatibility]) -> list[VariantRecommendation]:
        """Runnable variants, best first: quality, speed and headroom weighed together."""
        level_value = {
            CompatibilityLevel.OPTIMAL: 1.0,
            CompatibilityLevel.COMFORTABLE: 0.8,
            CompatibilityLevel.CONSTRAINED: 0.5,
            CompatibilityLevel.MARGINAL: 0.2,
        }
        out = []
        for fit in fits:
            if fit.level is None or fit.level is CompatibilityLevel.INCOMPATIBLE:
                continue
            quality = variant_quality(fit.variant)
            tps = fit.performance.tokens_per_second_expected if fit.performance else 0.0
            speed = min(1.0, tps / (2 * OPTIMAL_TPS))
            score = 0.45 * quality + 0.35 * level_value[fit.level] + 0.20 * speed
            config = InferenceConfig(
                gpu_layers=fit.recommended_gpu_layers or 0,
                context_length=fit.recommended_context_length,
            )
            out.append(
                VariantRecommendation(
                    variant=fit.variant,
                    compatibility=fit.level,
                    score=round(score, 3),
                    rationale=rationale(fit, quality),
                    recommended_config=config,
                    estimated_performance=fit.performance,
                )
            )
        return sorted(out, key=lambda r: -r.score)

    # --- facts ------------------------------------------------------------------------------------

    async def _facts(self, model: RemoteModel, variant: ModelVariant) -> ModelFacts:
        return await self._variant_facts(variant, parameter_count(model.parameter_count))

    async def _variant_facts(self, variant: ModelVariant, parameters: int | None) -> ModelFacts:
        """Facts from ``facts_for`` (which raises OSError or ValueError for a file whose header
        cannot be read: no verdict then), else from the file's size."""
        if self.facts_for is not None and variant.format is ModelFormat.GGUF:
            return await self.facts_for(variant)
        return self.sized(variant, parameters)

    @staticmethod
    def sized(variant: ModelVariant, parameters: int | None) -> ModelFacts:
        return ModelFacts.from_size(parameters, max(1, variant.size_bytes), quant_label(variant))

"""The words of a compatibility verdict: warnings, the one-line reason, rationales, summary.

Kept apart from the analyzer's search so the rules for *what* fits and the sentences that explain
it can change independently. Every sentence names where its sizes come from (the GGUF header or
an estimate from file size), because a verdict built on an estimate deserves less trust.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lexitui.domain.discovery import (
    CompatibilityWarning,
    ModelVariant,
    PerformanceEstimate,
    RemoteModel,
    VariantCompatibility,
    VariantRecommendation,
)
from lexitui.domain.enums import (
    CompatibilityLevel,
    CompatibilityWarningType,
    InferenceMode,
    ModelFormat,
    WarningSeverity,
)
from lexitui.domain.hardware import HardwareCapabilities
from lexitui.domain.slots import context_words
from lexitui.domain.units import format_bytes

if TYPE_CHECKING:
    from lexitui.discovery.compatibility import CompatibilityAnalyzer, Plan
    from lexitui.discovery.model_facts import ModelFacts

W = CompatibilityWarningType
SLOW_TPS = 5.0

FORMAT_PROBLEMS: dict[ModelFormat, str] = {
    ModelFormat.SAFE_TENSORS: "safetensors weights are for transformers/vLLM; llama.cpp needs a "
    "GGUF conversion (convert_hf_to_gguf.py, or a GGUF repo of this model)",
    ModelFormat.PY_TORCH: "PyTorch checkpoints are for transformers; llama.cpp needs a GGUF "
    "conversion",
    ModelFormat.GPTQ: "GPTQ is a GPU format for vLLM/transformers; llama.cpp cannot load it",
    ModelFormat.AWQ: "AWQ is a GPU format for vLLM/transformers; llama.cpp cannot load it",
    ModelFormat.MLX: "MLX weights run only on Apple's MLX framework, not llama.cpp",
    ModelFormat.ONNX: "ONNX models run on ONNX Runtime, not llama.cpp",
    ModelFormat.GGML: "GGML is the pre-GGUF format; current llama.cpp cannot load it",
}
EXPERIMENTAL_QUANTS = {
    "IQ1_S": "1.56-bit: most models lose much of their quality",
    "IQ1_M": "1.75-bit: most models lose much of their quality",
    "IQ2_XXS": "2.06-bit: a large quality drop on models under ~30B",
    "IQ2_XS": "2.31-bit: a large quality drop on models under ~30B",
    "TQ1_0": "ternary: only meaningful for models trained ternary (BitNet-style)",
    "TQ2_0": "ternary: only meaningful for models trained ternary (BitNet-style)",
}


def speed_words(perf: PerformanceEstimate) -> str:
    """ "about 40 tokens/s" for an estimate, "40 tokens/s measured here" for a measurement."""
    tps = perf.tokens_per_second_expected
    return f"{tps:.0f} tokens/s measured here" if perf.measured else f"about {tps:.0f} tokens/s"


def variant_warnings(
    variant: ModelVariant,
    label: str | None,
    plan: Plan | None,
    perf: PerformanceEstimate | None,
    hardware: HardwareCapabilities,
    trained_context: int | None,
) -> tuple[CompatibilityWarning, ...]:
    out: list[CompatibilityWarning] = []
    problem = FORMAT_PROBLEMS.get(variant.format)
    if problem:
        out.append(
            CompatibilityWarning(
                W.UNSUPPORTED_FORMAT,
                problem,
                WarningSeverity.ERROR,
                "Pick a GGUF variant of this model.",
            )
        )
    base = (label or "").upper().removeprefix("UD-")
    if plan is None and not problem:
        out.append(
            CompatibilityWarning(
                W.EXPERIMENTAL_QUANTIZATION,
                f"{label}: current llama.cpp no longer loads this layout",
                WarningSeverity.ERROR,
                "Use the plain Q4_0 file: llama.cpp repacks it for ARM/AVX2 at load time.",
            )
        )
    if base in EXPERIMENTAL_QUANTS:
        out.append(
            CompatibilityWarning(
                W.EXPERIMENTAL_QUANTIZATION,
                f"{label} is {EXPERIMENTAL_QUANTS[base]}",
                WarningSeverity.WARNING,
                "Prefer Q3_K_M or larger when it fits.",
            )
        )
    if plan is None or perf is None:
        return tuple(out)
    out += _memory_warnings(plan, hardware)
    if plan.fits and perf.tokens_per_second_expected < SLOW_TPS:
        out.append(
            CompatibilityWarning(
                W.SLOW_PERFORMANCE,
                f"{perf.tokens_per_second_expected:.1f} tokens/s measured here"
                if perf.measured
                else f"about {perf.tokens_per_second_expected:.1f} tokens/s expected",
                WarningSeverity.WARNING,
                "A smaller quantization or model decodes faster.",
            )
        )
    chosen = plan.config.context_length or 0
    if plan.fits and trained_context and chosen < trained_context:
        out.append(
            CompatibilityWarning(
                W.CONTEXT_LENGTH_LIMITED,
                f"context limited to {chosen} of the model's {trained_context} tokens",
                WarningSeverity.INFO if chosen >= 8192 else WarningSeverity.WARNING,
                "A smaller quantization or a q8_0 KV cache (--kv-type q8_0) leaves room for more.",
            )
        )
    return tuple(out)


def _memory_warnings(plan: Plan, hardware: HardwareCapabilities) -> list[CompatibilityWarning]:
    out = []
    b = plan.breakdown
    has_gpu = any(g.vram_bytes > 0 and not g.is_integrated for g in hardware.gpus) or any(
        g.vendor.value == "apple" for g in hardware.gpus
    )
    if not has_gpu:
        out.append(
            CompatibilityWarning(
                W.NO_GPU_ACCELERATION,
                "no GPU that can hold weights: inference runs on the CPU",
                WarningSeverity.INFO,
            )
        )
    elif plan.mode is not InferenceMode.FULL_GPU:
        where = f"{b.cpu.layers} of {b.n_layers} layers stay on the CPU"
        out.append(
            CompatibilityWarning(
                W.INSUFFICIENT_VRAM,
                f"the model does not fit in free VRAM: {where}",
                WarningSeverity.WARNING,
                "A smaller quantization or shorter context keeps it all on the GPU.",
            )
        )
    if not plan.fits:
        ram_need = b.required_ram_bytes
        out.append(
            CompatibilityWarning(
                W.INSUFFICIENT_RAM,
                f"needs {format_bytes(ram_need)} of RAM (and "
                f"{format_bytes(b.total_vram_bytes)} of VRAM) even with "
                f"{plan.config.context_length} tokens of context",
                WarningSeverity.ERROR,
                "Pick a smaller quantization or model, or free memory.",
            )
        )
    return out


def describe_fit(
    plan: Plan,
    perf: PerformanceEstimate,
    facts: ModelFacts,
    analyzer: CompatibilityAnalyzer,
    level: CompatibilityLevel,
) -> str:
    b = plan.breakdown
    ram_free = format_bytes(analyzer.ram_capacity)
    if not plan.fits:
        head = (
            f"Does not fit: needs {format_bytes(b.required_ram_bytes)} RAM"
            + (f" + {format_bytes(b.total_vram_bytes)} VRAM" if b.gpus else "")
            + f" at {plan.config.context_length} tokens; {ram_free} RAM usable"
        )
    elif plan.mode is InferenceMode.FULL_GPU:
        gpus = ", ".join(
            f"{g.device} ({format_bytes(g.total_bytes)} of "
            f"{format_bytes(analyzer.gpu_capacity.get(g.device, 0))})"
            for g in b.gpus
            if g.runs_layers
        )
        head = f"All {b.n_layers} layers on {gpus}"
    elif plan.mode is InferenceMode.HYBRID_GPU_CPU:
        head = (
            f"{b.n_layers - b.cpu.layers} of {b.n_layers} layers on the GPU "
            f"({format_bytes(b.total_vram_bytes)}), the rest on the CPU "
            f"({format_bytes(b.required_ram_bytes)} RAM)"
        )
    else:
        head = f"CPU only: {format_bytes(b.required_ram_bytes)} of {ram_free} usable RAM"
    speed = speed_words(perf) if plan.fits else ""
    context = f"{plan.config.context_length}-token context" if plan.fits else ""
    source = "sizes from the GGUF header" if facts.source == "gguf" else facts.basis
    parts = [p for p in (head, context, speed) if p]
    return f"{'; '.join(parts)} ({source})."


def license_warnings(model: RemoteModel) -> tuple[CompatibilityWarning, ...]:
    out = []
    if not model.commercial_use_allowed:
        name = model.license or "no license stated"
        out.append(
            CompatibilityWarning(
                W.LICENSE_RESTRICTION,
                f"{name}: commercial use is not allowed (or not stated)",
                WarningSeverity.WARNING,
                "Read the license on the model page before using it.",
            )
        )
    for restriction in model.restrictions:
        out.append(CompatibilityWarning(W.LICENSE_RESTRICTION, restriction, WarningSeverity.INFO))
    if model.gated:
        out.append(
            CompatibilityWarning(
                W.LICENSE_RESTRICTION,
                "gated: accept the license on the Hub and set HF_TOKEN",
                WarningSeverity.INFO,
            )
        )
    return tuple(out)


def level_word(level: CompatibilityLevel | None) -> str:
    return level.value if level is not None else "unknown"


def no_verdict(variant: ModelVariant, error: Exception) -> VariantCompatibility:
    """No header, no verdict: neither a level nor a mode, and the reason why."""
    return VariantCompatibility(
        variant=variant,
        level=None,
        recommended_mode=None,
        reason=f"its GGUF header could not be read ({error})",
    )


def rationale(fit: VariantCompatibility, quality: float) -> str:
    perf = fit.performance
    if perf is None:
        speed = "speed unknown"
    elif perf.measured:
        speed = f"{perf.tokens_per_second_expected:.0f} tok/s measured"
    else:
        speed = f"~{perf.tokens_per_second_expected:.0f} tok/s"
    modes = {
        InferenceMode.FULL_GPU: "all on GPU",
        InferenceMode.HYBRID_GPU_CPU: f"{fit.recommended_gpu_layers} layers on GPU",
        InferenceMode.CPU_ONLY: "CPU only",
    }
    mode = modes[fit.recommended_mode] if fit.recommended_mode else "placement unknown"
    tokens = fit.recommended_context_length or 0
    parallel = fit.breakdown.parallel if fit.breakdown is not None else 1
    # Several slots share the context: say what one request gets.
    context = f"{tokens} tokens of context" if parallel <= 1 else context_words(tokens, parallel)
    return f"{level_word(fit.level)}: {mode}, {speed}, quality {quality:.2f}, {context}"


def summarize(
    model: RemoteModel,
    fits: list[VariantCompatibility],
    best: VariantRecommendation | None,
) -> str:
    if not fits:
        return f"{model.id} lists no downloadable variants."
    if best is None:
        unknown = [f for f in fits if f.level is None]
        if len(unknown) == len(fits):
            return f"No verdict for {model.id}: no file's GGUF header could be read."
        if unknown:
            return (
                f"No verdict for {len(unknown)} file(s) of {model.id}, whose GGUF header could "
                "not be read; no other variant runs on this machine with llama.cpp."
            )
        return f"No variant of {model.id} runs on this machine with llama.cpp."
    label = best.variant.quantization_label or best.variant.variant_id
    chosen = next(f for f in fits if f.variant == best.variant)
    return f"Best here: {label}, {best.rationale}. {chosen.reason or ''}".strip()

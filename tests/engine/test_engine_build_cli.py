"""``lexitui engine build`` before it compiles anything: what it builds for, and what it says
when this machine lacks a toolkit or a GPU to build for. (The build itself is what the test
suite's own llama-server comes from; ``make gpu`` is the CUDA one.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from lexitui.cli import main
from lexitui.commands import engine as engine_cli
from lexitui.engine.build import BuildPlan, configure_args
from tests.discovery.test_compatibility import recorded_machine


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


async def test_cuda_builds_for_the_gpus_found_here_only(tmp_path: Path) -> None:
    h100s = await recorded_machine(tmp_path, "nvml_8x_h100.json", 512)
    assert engine_cli.cuda_archs(h100s.gpus) == ("90",)
    a100s = await recorded_machine(tmp_path, "nvml_2_gpus_a100.json", 256)
    assert engine_cli.cuda_archs(a100s.gpus) == ("80",)
    args = configure_args(BuildPlan("cuda", ("90",)), tmp_path / "src", tmp_path / "build")
    assert "-DGGML_CUDA=ON" in args and "-DCMAKE_CUDA_ARCHITECTURES=90" in args
    assert "-DLLAMA_BUILD_TESTS=OFF" in args and "-DBUILD_SHARED_LIBS=OFF" in args
    assert "-cuda-sm90-" in BuildPlan("cuda", ("90",)).name


def test_a_missing_toolkit_is_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvcc, hipcc, cmake or compiler here
    code, err = run(capsys, "engine", "build", "--rocm")
    assert code == 1
    assert err.strip() == (
        "lexitui engine: cannot build for rocm: missing cmake, a C++ compiler (g++ or clang++), "
        "ROCm's HIP compiler (hipcc)"
    )
    code, err = run(capsys, "engine", "build", "--cuda", "--cuda-arch", "90")
    assert code == 1 and err.strip().endswith("the CUDA toolkit (nvcc)")


def test_cuda_without_a_gpu_asks_for_the_architecture(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_cli, "detected_cuda_archs", lambda: ())
    code, err = run(capsys, "engine", "build", "--cuda")
    assert code == 1
    assert "no NVIDIA GPU found to build for: name the architecture with --cuda-arch" in err

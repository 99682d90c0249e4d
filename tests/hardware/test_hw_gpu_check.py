"""bench/gpu_check.py against a stand-in nvidia-smi and a recorded NVML reading."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "gpu_check.py"
H100 = "NVIDIA H100 80GB HBM3, 81559, 550.54.15, 9.0"


def _run(
    tmp_path: Path, recording: Path, smi_lines: list[str] | None, *extra: str
) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if smi_lines is not None:
        smi = bin_dir / "nvidia-smi"
        # Shell builtins only: PATH holds nothing but this folder.
        body = "\n".join(f"echo '{line}'" for line in smi_lines)
        smi.write_text(f"#!/bin/sh\n{body}\n")
        smi.chmod(0o755)
    env = {
        **os.environ,
        "PATH": str(bin_dir),
        "LEXITUI_HOME": str(tmp_path / "home"),
        "CUDA_VISIBLE_DEVICES": "0",
    }  # must be ignored: nvidia-smi ignores it too
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--nvml-recording", str(recording), *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.fixture
def h100x8(fixtures_dir: Path) -> Path:
    return fixtures_dir / "nvml_8x_h100.json"


def test_all_fields_match(tmp_path: Path, h100x8: Path) -> None:
    done = _run(tmp_path, h100x8, [H100] * 8, "--record", str(tmp_path / "rec.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    fields = [
        ln for ln in done.stdout.splitlines() if ln.startswith("  ") and ln.endswith(" MATCH")
    ]
    assert len(fields) == 8 * 4 and done.stdout.rstrip().endswith("ALL MATCH")
    saved = json.loads((tmp_path / "rec.json").read_text())
    assert len(saved["snapshots"][0]["devices"]) == 8


def test_memory_mismatch_fails(tmp_path: Path, h100x8: Path) -> None:
    lines = [H100] * 8
    lines[3] = "NVIDIA H100 80GB HBM3, 81920, 550.54.15, 9.0"
    done = _run(tmp_path, h100x8, lines)
    assert done.returncode == 1
    bad = [line for line in done.stdout.splitlines() if line.endswith("MISMATCH")]
    assert len(bad) == 1 and "81559" in bad[0] and "81920" in bad[0]


def test_gpu_count_mismatch_fails(tmp_path: Path, h100x8: Path) -> None:
    done = _run(tmp_path, h100x8, [H100] * 7)
    assert done.returncode == 1 and "GPU count: lexitui 8 vs nvidia-smi 7" in done.stdout


def test_no_nvidia_smi(tmp_path: Path, h100x8: Path) -> None:
    done = _run(tmp_path, h100x8, None)
    assert done.returncode == 2 and "cannot run nvidia-smi" in done.stderr


def test_mig_parent_skipped(tmp_path: Path, fixtures_dir: Path) -> None:
    a100 = "NVIDIA A100-SXM4-80GB, 81920, 550.90.07, 8.0"
    done = _run(tmp_path, fixtures_dir / "nvml_mig_a100.json", [a100] * 3)
    assert done.returncode == 0, done.stdout
    assert done.stdout.count("SKIP") == 2  # GPU 0 (two instances) and GPU 1 (none)

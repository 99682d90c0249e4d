"""`lexitui hw`: the argparse wiring, the JSON report, the plain-text table."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lexitui.commands import hardware as cli
from lexitui.domain.enums import ModelSizeCategory, QuantizationType
from lexitui.engine import devices as engine_devices
from lexitui.engine.devices import EngineInfo, devices_from_device_info
from lexitui.engine.settings import EMBEDDED
from lexitui.hardware.detector import HardwareDetector
from tests.home_config import write_test_config

Make = Callable[..., HardwareDetector]
FIXTURES = Path(__file__).parent.parent / "fixtures" / "hardware"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LEXITUI_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LEXITUI_CONFIG", raising=False)
    return tmp_path / "home"


@pytest.fixture
def fake_machine(monkeypatch: pytest.MonkeyPatch, make_detector: Make) -> Callable[[str], None]:
    def use(recording: str) -> None:
        def build(**kwargs: Any) -> HardwareDetector:
            return make_detector(recording, **kwargs)

        monkeypatch.setattr(cli, "HardwareDetector", build)

    return use


def test_add_parser_registers_hw() -> None:
    parser = argparse.ArgumentParser()
    cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["hw", "--json"])
    assert args.json is True and args.func is cli.run_hw
    assert parser.parse_args(["hw"]).json is False


async def test_json_report_for_eight_h100s(
    home: Path, fake_machine: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    fake_machine("nvml_8x_h100.json")
    code = await cli.run_hw(argparse.Namespace(json=True))
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["gpus"]) == 8 and data["gpus"][0]["compute_capability_int"] == 90
    assert data["recommendation"]["max_recommended_size"] == "xxlarge"
    assert len(data["recommendation"]["available_options"]) == len(ModelSizeCategory) * len(
        QuantizationType
    )
    support = {b["backend"]: b["supported"] for b in data["backend_support"]}
    assert support["vllm"] is True and support["custom"] is True


async def test_text_report(
    home: Path, fake_machine: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    fake_machine("nvml_driver_mismatch.json")
    assert await cli.run_hw(argparse.Namespace(json=False)) == 0
    out = capsys.readouterr().out
    assert "Intel(R) Xeon(R) Platinum 8480+: 4 cores / 8 threads" in out
    assert "GPU      none usable" in out
    assert "cpu_only (0 GPU layers)" in out
    assert "- nvidia: driver/library version mismatch" in out
    assert "\x1b[" not in out  # plain text: no colour codes for logs and pipes
    size_rows = [line.split()[0] for line in out.splitlines() if line.startswith(("tiny ", "xx"))]
    assert size_rows == ["tiny", "xxlarge"]


async def test_text_report_lists_gpus(
    home: Path, fake_machine: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    fake_machine("nvml_mig_a100.json")
    assert await cli.run_hw(argparse.Namespace(json=False)) == 0
    out = capsys.readouterr().out
    assert "nvidia:0:mig1" in out and "cuda cc 8.0" in out
    assert "no MIG instances" in out


async def test_a_gpu_the_engine_cannot_use_is_said_and_not_planned(
    home: Path, fake_machine: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    rows = json.loads((FIXTURES / "xllamacpp_devices_cpu.json").read_text())
    engine = EngineInfo(EMBEDDED, "1.0", None, devices_from_device_info(rows))
    engine_devices.use_recorded((engine,))
    fake_machine("nvml_8x_h100.json")
    assert await cli.run_hw(argparse.Namespace(json=False)) == 0
    out = capsys.readouterr().out
    assert "Engine   embedded llama.cpp 1.0: CPU only: CPU (AMD EPYC, 23.5 GiB)" in out
    assert out.count("the installed llama.cpp engine runs on the CPU only") == 1
    assert "cpu_only (0 GPU layers)" in out  # the recommendation plans with the real engine
    assert "The installed llama.cpp engine cannot use this machine's GPU, so inference" in out
    assert await cli.run_hw(argparse.Namespace(json=True)) == 0
    (listed,) = json.loads(capsys.readouterr().out)["engines"]
    assert listed["kind"] == "embedded" and listed["devices"][0]["type"] == "cpu"


async def test_bad_config_exits_2(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    write_test_config(config, "[hardware]\nvram_headroom_mb = -1\n")
    assert await cli.run_hw(argparse.Namespace(json=True)) == 2
    err = capsys.readouterr().err
    assert "vram_headroom_mb" in err and err.startswith("lexitui hw:")


def test_module_entry_point_real_machine(tmp_path: Path) -> None:
    """The real probes of whatever machine runs the tests, through a fresh interpreter."""
    env = {**os.environ, "LEXITUI_HOME": str(tmp_path)}
    env.pop("LEXITUI_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "lexitui.commands.hardware", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["cpu"]["logical_cores"] == os.cpu_count()
    assert data["total_ram_bytes"] > 0 and data["available_disk_bytes"] > 0
    assert data["model_storage_path"] == str(tmp_path / "data" / "models")
    if not data["gpus"]:
        assert data["recommendation"]["recommended_mode"] == "cpu_only"
    # The embedded engine answers for itself (xllamacpp's own device list).
    embedded = next(e for e in data["engines"] if e["kind"] == "embedded")
    assert embedded["version"] and embedded["error"] is None
    assert any(d["type"] == "cpu" and d["backend"] == "CPU" for d in embedded["devices"])


def test_hardware_layer_never_loads_ui_packages() -> None:
    code = (
        "import sys, lexitui.commands.hardware, lexitui.hardware.monitor;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"

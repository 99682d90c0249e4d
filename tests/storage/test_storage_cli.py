"""The storage commands as a user runs them: separate processes on a temporary LEXITUI_HOME.

They run as ``python -m lexitui.commands.storage``, the same commands ``lexitui`` mounts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lexitui.domain.units import format_bytes
from lexitui.storage.starter import STARTER_ID
from tests.storage.layouts import add_to_hf_cache

HF_ID = "hf:acme.tiny-llama-gguf:q8_0"


@pytest.fixture
def env(tmp_path: Path, lexitui_home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "LEXITUI_HOME": str(lexitui_home),
        "HOME": str(tmp_path),
        "HF_HUB_CACHE": str(tmp_path / "hf"),
        "OLLAMA_MODELS": str(tmp_path / "ollama"),
    }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lexitui", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def run_json(env: dict[str, str], *args: str) -> Any:
    done = run(env, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_library_import_verify_export_rm(env: dict[str, str], tmp_path: Path, tiny: Path) -> None:
    add_to_hf_cache(tmp_path / "hf", "acme/tiny-llama-GGUF", "tiny-llama.Q8_0.gguf", tiny)

    seen = run_json(env, "library")
    assert [m["model_id"] for m in seen["models"]] == [HF_ID]
    synced = run_json(env, "library", "--scan")
    assert synced["added"] == [HF_ID]

    imported = run_json(env, "import", str(tiny), "--id", "mine")
    assert imported["model"]["id"] == "mine"
    assert imported["facts"]["quantization"] == "Q8_0"

    reports = run_json(env, "verify", "--quick")
    assert {r["model_id"] for r in reports} == {HF_ID, "mine", STARTER_ID}
    assert all(r["ok"] for r in reports)

    out = tmp_path / "exported.gguf"
    exported = run(env, "export", "mine", str(out))
    assert exported.returncode == 0 and out.read_bytes() == tiny.read_bytes()

    forgot = run(env, "rm", HF_ID)
    assert forgot.returncode == 0
    assert "left in place" in forgot.stdout
    deleted = run(env, "rm", "mine")
    assert deleted.returncode == 0
    assert f"freed {format_bytes(tiny.stat().st_size)}" in deleted.stdout
    assert tiny.exists()


def test_bad_input_is_one_line_and_exit_1(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf at all")

    for args, said in (
        (("import", str(bad)), "not a valid GGUF file"),
        (("rm", "no-such-model"), "no installed model"),
        (("export", "BAD ID", str(tmp_path)), "invalid model id"),
        (("verify", "no-such-model"), "no installed model"),
    ):
        done = run(env, *args)
        assert done.returncode == 1, args
        assert done.stderr.startswith("lexitui: ") and said in done.stderr, done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_storage_and_cleanup_report(env: dict[str, str], tiny: Path) -> None:
    run_json(env, "import", str(tiny))

    info = run_json(env, "storage")
    assert info["installed_model_count"] == 2
    assert info["used_by_models_bytes"] == tiny.stat().st_size
    assert info["storage_path"].endswith(os.path.join("data", "models"))

    plan = run_json(env, "cleanup", "--dry-run", "--free", "1K")
    assert plan["cleanup"] is None and plan["deleted"] == []
    human = run(env, "cleanup", "--dry-run")
    assert human.returncode == 0
    assert "no models to suggest" in human.stdout  # just installed, never a duplicate

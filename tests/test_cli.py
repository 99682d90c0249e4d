"""The headless CLI, run as a user would: a subprocess with its own LEXITUI_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lexitui.storage.starter import STARTER_ID


def lexitui(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lexitui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ.copy(),
    )


def test_version() -> None:
    result = lexitui("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("lexitui ")


def test_ls_json_lists_the_starter_model() -> None:
    result = lexitui("ls", "--json")
    assert result.returncode == 0, result.stderr
    models = json.loads(result.stdout)
    assert [m["id"] for m in models] == [STARTER_ID]
    assert models[0]["format"] == "gguf" and models[0]["size_bytes"] > 90_000_000


@pytest.mark.engine
def test_run_streams_an_answer_and_reports_figures() -> None:
    result = lexitui("run", STARTER_ID, "Say hi", "--max-tokens", "12", "--seed", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "the answer goes to stdout"
    assert "tok/s" in result.stderr and "TTFT" in result.stderr


@pytest.mark.engine
def test_run_json_gives_machine_readable_figures() -> None:
    result = lexitui("run", STARTER_ID, "Say hi", "--max-tokens", "6", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["completion_tokens"] == 6 and report["finish_reason"] == "length"
    assert report["text"]


def test_run_unknown_model_is_one_clear_line() -> None:
    result = lexitui("run", "no-such-model", "hi")
    assert result.returncode == 1
    assert result.stderr.strip() == "lexitui: no installed model 'no-such-model' (see `lexitui ls`)"


def test_run_rejects_an_unsafe_model_id() -> None:
    result = lexitui("run", "../../etc/passwd", "hi")
    assert result.returncode == 1
    assert "invalid model id" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_database_from_a_newer_release_is_one_line_and_a_prompt_exit() -> None:
    import sqlite3

    from lexitui.config import Paths

    paths = Paths.from_env()
    paths.ensure()
    with sqlite3.connect(paths.database) as conn:
        conn.execute("PRAGMA user_version = 999")
    result = lexitui("ls", timeout=20)  # a leaked connection thread would hang here
    assert result.returncode == 1
    assert "newer lexitui" in result.stderr and "Traceback" not in result.stderr

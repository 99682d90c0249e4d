"""The headless CLI, run as a user would: a subprocess with its own LEXITUI_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

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


@pytest.mark.engine
def test_run_takes_generation_and_load_options(tmp_path: Path) -> None:
    grammar = tmp_path / "yesno.gbnf"
    grammar.write_text('root ::= "yes" | "no"\n')
    result = lexitui(
        "run",
        STARTER_ID,
        "Is the sky blue?",
        "--grammar",
        str(grammar),
        "--json",
        "--ctx",
        "1024",
        "--threads",
        "1",
        "--top-k",
        "5",
        "--mirostat",
        "0",
        "--seed",
        "3",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["text"] in ("yes", "no")


def test_run_with_a_bad_option_fails_before_loading(tmp_path: Path) -> None:
    missing = lexitui("run", STARTER_ID, "hi", "--schema", str(tmp_path / "none.json"))
    assert missing.returncode == 1
    assert missing.stderr.startswith("lexitui: cannot read the JSON schema file")
    bad = lexitui("run", STARTER_ID, "hi", "--top-p", "2")
    assert bad.returncode == 1 and "top-p must be between 0 and 1" in bad.stderr


@pytest.mark.engine
def test_interactive_run_is_listed_by_ps_and_stopped_by_unload() -> None:
    chat = subprocess.Popen(
        [sys.executable, "-m", "lexitui", "run", STARTER_ID, "--ctx", "1024", "--max-tokens", "4"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert chat.stdout is not None and chat.stdin is not None
        assert chat.stdout.readline().startswith(f"Chatting with {STARTER_ID}")
        chat.stdin.write("Say hi\n")
        chat.stdin.flush()
        listed = json.loads(lexitui("ps", "--json").stdout)
        assert [e["model_id"] for e in listed] == [STARTER_ID]
        assert listed[0]["owner_pid"] == chat.pid and listed[0]["ram_bytes"] > 0
        assert "unloaded" in lexitui("unload", STARTER_ID).stdout
        # The engine stops on its own time after the signal: ask until it is gone (bounded).
        deadline = time.monotonic() + 30
        while json.loads(lexitui("ps", "--json").stdout) != [] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert json.loads(lexitui("ps", "--json").stdout) == []
        _, err = chat.communicate("Say bye\n", timeout=60)
        assert chat.returncode == 1 and "stopped from outside" in err
    finally:
        if chat.poll() is None:
            chat.kill()


def test_ps_and_unload_with_nothing_loaded() -> None:
    assert lexitui("ps").stdout.startswith("No engines running")
    missing = lexitui("unload", STARTER_ID)
    assert missing.returncode == 1 and "is not loaded" in missing.stderr
    assert lexitui("unload").returncode == 1


@pytest.mark.engine
def test_embed_json_gives_unit_vectors_of_the_model_dimension() -> None:
    result = lexitui("embed", STARTER_ID, "a cat", "a dog", "--json", "--ctx", "512")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dimensions"] == 576 and len(report["embeddings"]) == 2
    for vector in report["embeddings"]:
        assert abs(sum(x * x for x in vector) - 1.0) < 1e-4


@pytest.mark.engine
def test_bench_json_prints_tokens_per_second_and_ttft() -> None:
    result = lexitui("bench", STARTER_ID, "--json", "--ctx", "1024", "--tokens", "12", timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["model_id"] == STARTER_ID
    assert report["tokens_per_second"] > 0 and report["ttft_ms"] > 0
    assert len(report["runs"]) >= 3
    assert all(0 < run["completion_tokens"] <= 12 for run in report["runs"])


def test_bench_refuses_a_token_count_it_cannot_use() -> None:
    result = lexitui("bench", STARTER_ID, "--tokens", "0")
    assert result.returncode != 0
    assert "--tokens must be a number from 1 to 4096" in result.stderr
    assert "Traceback" not in result.stderr

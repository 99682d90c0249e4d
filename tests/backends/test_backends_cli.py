"""``lexitui backends`` and ``lexitui backend ...``: output, persistence, one-line user errors, and
a foreground ``backend start`` that another command can see and stop.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from lexitui.cli import main as lexitui_main
from lexitui.commands.backends import main
from lexitui.config import Paths
from lexitui.engine.kinds import EngineKind
from lexitui.storage.starter import STARTER_ID


@pytest.fixture(autouse=True)
def no_ollama(monkeypatch: pytest.MonkeyPatch) -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("OLLAMA_HOST", url)
    return url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_backends_lists_every_backend_with_status_and_reason(
    capsys: pytest.CaptureFixture[str], no_ollama: str
) -> None:
    code, out, _ = run(capsys, "backends", "--json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert list(rows)[:2] == ["ollama", "llamacpp"]
    assert rows["ollama"]["status"] == "stopped"
    assert rows["ollama"]["endpoint"] == no_ollama
    assert rows["ollama"]["reason"] == f"not found at {no_ollama[7:]} (connection refused)"
    assert rows["llamacpp"]["reason"] == "not started" and rows["llamacpp"]["managed"]
    code, out, _ = run(capsys, "backends")
    header, *lines = out.splitlines()
    assert header.split() == [
        "NAME",
        "TYPE",
        "STATUS",
        "ENDPOINT",
        "VERSION",
        "LATENCY",
        "MODELS",
        "REASON",
    ]
    assert lines[0].startswith("ollama ") and "connection refused" in lines[0]


def test_add_prefer_remove_persist_and_user_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], paths: Paths
) -> None:
    code, out, _ = run(
        capsys, "backend", "add", "gpu-box", "http://10.0.0.5:8000", "--type", "vllm",
        "--api-key-env", "GPU_BOX_KEY",
    )  # fmt: skip
    assert (code, out) == (0, "added gpu-box (vllm) at http://10.0.0.5:8000\n")
    assert run(capsys, "backend", "prefer", "gpu-box")[0] == 0
    stored = tomllib.loads(paths.config_file.read_text())["backends"]
    assert stored["preferred"] == "gpu-box" and stored["gpu-box.type"] == "vllm"

    for argv, message in [
        (("backend", "add", "gpu-box", "http://h:1"), "already exists"),
        (("backend", "add", "x", "file:///etc/passwd"), "invalid URL"),
        (("backend", "remove", "ghost"), "no custom backend named 'ghost'"),
        (("backend", "remove", "ollama"), "built in"),
        (("backend", "prefer", "ghost"), "no backend named 'ghost'"),
    ]:
        code, _, err = run(capsys, *argv)
        assert code == 1 and err.count("\n") == 1 and message in err, err
        assert err.startswith("lexitui: ")

    assert run(capsys, "backend", "remove", "gpu-box")[:2] == (0, "removed gpu-box\n")
    stored = tomllib.loads(paths.config_file.read_text())["backends"]
    assert stored["custom"] == [] and "preferred" not in stored


def test_start_help_says_the_engine_ends_with_the_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["backend", "start", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "it stops when this process ends" in text and "Ctrl+C" in text


def read_line(proc: subprocess.Popen[str], limit: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], limit)
    assert ready, "no output in time"
    return proc.stdout.readline()


@pytest.mark.engine
def test_foreground_start_is_seen_and_stopped_by_other_commands(
    capsys: pytest.CaptureFixture[str], starter_path: Path, engine_kind: EngineKind
) -> None:
    # By installed model id: the command resolves it through the registry (the starter model
    # is registered on start; ``starter_path`` only makes sure its package is installed).
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "lexitui.commands.backends", "backend", "start", "llamacpp",
            "--model", STARTER_ID, "--ctx", "1024",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )  # fmt: skip
    try:
        first = read_line(proc, 60)
        assert first.startswith(f"llamacpp serving {STARTER_ID} at http://127.0.0.1:"), first
        code, out, _ = run(capsys, "backends", "--json")
        row = {r["name"]: r for r in json.loads(out)}["llamacpp"]
        assert row["status"] == "running" and row["model_count"] == 1
        assert row["reason"].startswith(
            f"started by lexitui process {proc.pid} on {engine_kind.name}"
        )
        assert row["endpoint"] in first
        # One owner for every engine: `lexitui ps` in another process shows this one too.
        assert lexitui_main(["ps", "--json"]) == 0
        [engine] = json.loads(capsys.readouterr().out)
        assert (engine["model_id"], engine["engine"]) == (STARTER_ID, engine_kind.name)
        assert engine["owner_pid"] == proc.pid and engine["endpoint"] in first
        assert engine["ram_bytes"] > 0 and "api_key" not in engine

        started = time.monotonic()
        code, out, err = run(capsys, "backend", "stop", "llamacpp")
        assert code == 0, err
        assert out.startswith("stopped llamacpp (was pid ")
        assert proc.wait(15) == 0
        assert time.monotonic() - started < 15
        assert proc.stdout is not None and "llamacpp stopped" in proc.stdout.read()
        code, _, err = run(capsys, "backend", "stop", "llamacpp")
        assert code == 1 and "not running" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


APP_OWNER = """
import asyncio, sys
from lexitui.backends.manager import BackendManager
from lexitui.config import Paths
from lexitui.domain.backends import ModelLoadOptions

async def main():
    async with BackendManager(Paths.from_env()) as manager:
        result = await manager.start_managed(sys.argv[1], ModelLoadOptions(context_length=1024))
        print(result.endpoint, flush=True)
        await asyncio.sleep(120)

asyncio.run(main())
"""


@pytest.mark.engine
def test_an_engine_run_by_the_app_is_never_signalled_by_another_command(
    capsys: pytest.CaptureFixture[str], starter_path: Path
) -> None:
    # Stands in for the TUI: a lexitui process whose manager started the engine itself.
    app = subprocess.Popen(
        [sys.executable, "-c", APP_OWNER, str(starter_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        endpoint = read_line(app, 60).strip()
        assert endpoint.startswith("http://127.0.0.1:")
        code, _, err = run(capsys, "backend", "stop", "llamacpp")
        assert code == 1 and f"belongs to the lexitui app (process {app.pid})" in err
        code, _, err = run(capsys, "backend", "start", "llamacpp", "--model", str(starter_path))
        assert code == 1 and f"already runs at {endpoint}" in err
        assert app.poll() is None, "the app was not signalled"
    finally:
        app.kill()
        app.wait()

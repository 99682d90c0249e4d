"""The llama-server engine as a user meets it, in real processes: ``lexitui hw --json`` lists it
with its devices beside the embedded engine, and ``lexitui run`` and ``lexitui serve`` answer on
it (``--engine llama-server``, or named in the config)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lexitui.config import Paths
from lexitui.engine.settings import SERVER_ENV
from lexitui.storage.starter import STARTER_ID
from tests.gateway.serve_process import engines_running, running_serve
from tests.home_config import write_test_config

pytestmark = pytest.mark.engine


@pytest.fixture
def with_llama_server(llama_server_binary: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(SERVER_ENV, str(llama_server_binary))
    return llama_server_binary


def lexitui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lexitui", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=os.environ.copy(),
    )


def test_hw_json_lists_each_engine_with_its_devices(with_llama_server: Path) -> None:
    done = lexitui("hw", "--json")
    assert done.returncode == 0, done.stderr
    engines = {e["kind"]: e for e in json.loads(done.stdout)["engines"]}
    assert set(engines) == {"embedded", "llama-server"}
    assert [d["type"] for d in engines["embedded"]["devices"]] == ["cpu"]
    server = engines["llama-server"]
    assert server["path"] == str(with_llama_server) and server["version"].startswith("b9993")
    assert [(d["name"], d["type"]) for d in server["devices"]] == [("CPU", "cpu")]
    assert server["error"] is None
    text = lexitui("engine", "list")
    assert text.returncode == 0
    assert f"llama-server b9993 at {with_llama_server}: CPU only: CPU" in text.stdout


def test_run_answers_on_the_llama_server_engine(with_llama_server: Path) -> None:
    done = lexitui(
        "run", STARTER_ID, "Say hi", "--engine", "llama-server", "--max-tokens", "6", "--json"
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["text"].strip() and answer["completion_tokens"] == 6
    assert answer["engine"] == f"llama-server ({with_llama_server})"


def test_run_with_a_named_binary_that_is_gone_fails_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SERVER_ENV, str(tmp_path / "llama-server"))
    done = lexitui("run", STARTER_ID, "Say hi", "--engine", "llama-server")
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .endswith(f"llama-server not found at {tmp_path / 'llama-server'} (named by {SERVER_ENV})")
    )


@pytest.fixture
def gateway(with_llama_server: Path, paths: Paths) -> Iterator[str]:
    # Named in the config this time, as a server's admin would.
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    write_test_config(
        paths.config_file,
        f'[runtime]\nengine = "llama-server"\nllama_server = "{with_llama_server}"\n',
    )
    env = {k: v for k, v in os.environ.items() if k != SERVER_ENV}
    with running_serve("--model", STARTER_ID, env=env) as (url, _):
        yield url


def test_serve_answers_on_the_llama_server_engine(gateway: str) -> None:
    reply = httpx.post(
        f"{gateway}/chat/completions",
        json={"model": "auto", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5},
        timeout=120,
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["choices"][0]["message"]["content"]
    ps = engines_running()
    assert [(r["model_id"], r["engine"]) for r in ps] == [(STARTER_ID, "llama-server")]

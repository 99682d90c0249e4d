"""``lexitui serve`` after its engine is killed: the model is loaded again with backoff, the
answers in between say so (503, "reloading"), and it answers from the local model again
within 10 s; the reload is in its log (stderr)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator

import httpx
import psutil
import pytest

from lexitui.config import Paths
from lexitui.storage.starter import STARTER_ID
from tests.gateway.serve_process import engines_running, running_serve
from tests.home_config import write_test_config

pytestmark = [pytest.mark.engine, pytest.mark.timeout(240)]
ASK = {"messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 4}


@pytest.fixture
def serve(paths: Paths) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    write_test_config(paths.config_file, "[runtime]\nfirst_token_timeout_s = 60\n")
    with running_serve("--model", STARTER_ID) as (url, proc):
        yield url, proc


def engine_pid() -> int:
    [pid] = [r["engine_pid"] for r in engines_running() if r["model_id"] == STARTER_ID]
    return int(pid)


def wait_gone(pid: int) -> None:
    for _ in range(200):
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return
        time.sleep(0.01)


def test_a_killed_engine_is_reloaded_and_serve_answers_again(
    serve: tuple[str, subprocess.Popen[str]],
) -> None:
    base_url, proc = serve
    with httpx.Client(base_url=base_url, timeout=120) as http:
        assert http.post("/chat/completions", json=ASK).status_code == 200
        pid = engine_pid()
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        wait_gone(pid)

        meanwhile = http.post("/chat/completions", json=ASK)
        assert meanwhile.status_code == 503
        message = meanwhile.json()["error"]["message"]
        assert "crashed" in message and "SIGKILL" in message and "reloading" in message

        served: list[str] = []
        while time.monotonic() - killed < 10:
            listed = http.get("/models").json()["data"]
            served = [m["id"] for m in listed if m["loaded"]]
            if STARTER_ID in served:
                break
            time.sleep(0.1)
        assert served == [STARTER_ID], "not reloaded within 10 s of the kill"
        answer = http.post("/chat/completions", json=ASK)
        assert answer.status_code == 200 and answer.json()["model"] == STARTER_ID
        assert engine_pid() != pid

    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert "reloading it in" in err and f"reloaded {STARTER_ID} after its engine crashed" in err
    assert "Traceback" not in err

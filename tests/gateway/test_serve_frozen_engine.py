"""``lexitui serve`` honours ``[runtime] first_token_timeout_s``: with its engine frozen
(SIGSTOP: connections are still accepted, nothing answers), a request fails with 504 after
that deadline (and the router's one retry on a timeout), not after the router's 120 s."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import httpx
import pytest

from lexitui.config import Paths
from lexitui.storage.starter import STARTER_ID
from tests.gateway.serve_process import engines_running, running_serve
from tests.home_config import write_test_config

pytestmark = [pytest.mark.engine, pytest.mark.timeout(240)]
ASK = {"messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 4}


@pytest.fixture
def serve(paths: Paths) -> Iterator[str]:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    write_test_config(paths.config_file, "[runtime]\nfirst_token_timeout_s = 3\n")
    with running_serve("--model", STARTER_ID) as (url, _):
        yield url


def engine_pid() -> int:
    [pid] = [r["engine_pid"] for r in engines_running() if r["model_id"] == STARTER_ID]
    return int(pid)


def test_a_frozen_engine_fails_after_the_configured_first_token_timeout(serve: str) -> None:
    with httpx.Client(base_url=serve, timeout=200) as http:
        http.post("/chat/completions", json=ASK)  # warm: the first answer may be slow here
        pid = engine_pid()
        os.kill(pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            frozen = http.post("/chat/completions", json=ASK)
            waited = time.monotonic() - started
        finally:
            os.kill(pid, signal.SIGCONT)
    assert frozen.status_code == 504, frozen.text
    assert "no answer within 3 s" in frozen.json()["error"]["message"]
    assert waited < 60  # 3 s, then a retry; the router's own limit would be 120 s

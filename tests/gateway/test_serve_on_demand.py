"""``lexitui serve`` with no ``--model``: the first chat loads the starter, a request's
``keep_alive`` keeps it or lets it go, and it unloads once idle past its keep-alive."""

from __future__ import annotations

import time

import httpx
import pytest

from lexitui.storage.starter import STARTER_ID
from tests.gateway.serve_process import engines_running, running_serve

pytestmark = [pytest.mark.engine, pytest.mark.timeout(180)]


def chat(url: str, keep_alive: object) -> httpx.Response:
    body = {
        "messages": [{"role": "user", "content": "Say hi."}],
        "max_tokens": 4,
        "keep_alive": keep_alive,
    }
    return httpx.post(f"{url}/chat/completions", json=body, timeout=120)


def test_serve_without_a_model_loads_the_starter_and_unloads_it_when_idle() -> None:
    with running_serve() as (url, _proc):
        kept = chat(url, -1)
        assert kept.status_code == 200, kept.text
        assert kept.json()["model"] == STARTER_ID and kept.json()["choices"][0]["message"]
        [engine] = engines_running()  # kept loaded, as the request asked
        assert engine["model_id"] == STARTER_ID
        brief = chat(url, "500ms")
        assert brief.status_code == 200, brief.text
        deadline = time.monotonic() + 30
        while engines_running():
            assert time.monotonic() < deadline, "the idle model was never unloaded"
            time.sleep(0.2)

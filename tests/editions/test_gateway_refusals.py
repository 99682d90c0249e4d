"""``lexitui serve`` on a managed machine answers what the user's edition does not allow with a
403 in each API's own error shape, and still answers what it allows."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from lexitui.editions.tiers import Tier
from lexitui.storage.starter import STARTER_ID
from tests.editions.conftest import ManagedMachine

pytestmark = [pytest.mark.engine, pytest.mark.timeout(240)]


@contextmanager
def managed_serve(machine: ManagedMachine) -> Iterator[str]:
    """The server's root URL (OpenAI under /v1, Ollama under /api) once it listens."""
    proc = subprocess.Popen(
        machine.command("serve", "--port", "0", "--ollama-port", "off"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("lexitui gateway on "), proc.stderr.read() if proc.stderr else line
        yield line.split()[-1].removesuffix("/v1")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise


ASK = [{"role": "user", "content": "Say hi."}]


def test_writerpro_gets_basic_chat_and_a_403_for_teams_features(managed: ManagedMachine) -> None:
    managed.license(Tier.WRITERPRO)
    with managed_serve(managed) as root:
        basic = httpx.post(
            f"{root}/v1/chat/completions",
            json={"model": STARTER_ID, "messages": ASK, "max_tokens": 4, "temperature": 0},
            timeout=120,
        )
        assert basic.status_code == 200, basic.text
        assert basic.json()["choices"][0]["message"]["content"]

        embeddings = httpx.post(
            f"{root}/v1/embeddings", json={"model": STARTER_ID, "input": "a cat"}, timeout=60
        )
        assert embeddings.status_code == 403
        error = embeddings.json()["error"]
        assert (error["type"], error["code"]) == ("permission_error", "not_entitled")
        assert error["message"].startswith("embeddings needs Teams or above (this user: WriterPro")

        sampled = httpx.post(
            f"{root}/api/chat",
            json={
                "model": STARTER_ID,
                "messages": ASK,
                "stream": False,
                "options": {"top_k": 5, "num_predict": 4},
            },
            timeout=120,
        )
        assert sampled.status_code == 403
        assert sampled.json() == {
            "error": "all generation parameters needs Teams or above"
            " (this user: WriterPro; licensed to ann)"
        }

        ollama_embed = httpx.post(
            f"{root}/api/embed", json={"model": STARTER_ID, "input": "a cat"}, timeout=60
        )
        assert ollama_embed.status_code == 403
        assert ollama_embed.json()["error"].startswith("embeddings needs Teams")

"""``lexitui serve`` as an Ollama tool sees it: the real ``ollama`` client against a real server
with the starter model in the embedded engine, on the main port and on the Ollama port; every
answer is recorded with the ``ollama`` source. When Ollama's port is taken, one line says so and
the main port serves on."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import ollama
import pytest

from lexitui.config import Paths
from lexitui.storage.starter import STARTER_ID
from lexitui.store import Store
from lexitui.store.routed_requests import RoutedRequestRows
from tests.gateway.serve_process import running_serve

pytestmark = pytest.mark.engine

ASK = [{"role": "user", "content": "Say hello."}]
SHORT = {"num_predict": 8, "temperature": 0}


@pytest.fixture
def served() -> Iterator[tuple[str, str]]:
    """The main URL (no ``/v1``) and the Ollama port's URL."""
    with running_serve("--model", STARTER_ID, "--ollama-port", "0") as (url, proc):
        assert proc.stdout is not None
        second = proc.stdout.readline()
        assert second.startswith("lexitui Ollama API also on "), second
        yield url.removesuffix("/v1"), second.split()[-1]


def test_the_ollama_client_lists_chats_generates_embeds_and_is_recorded(
    served: tuple[str, str], paths: Paths
) -> None:
    main, ollama_port = served
    client = ollama.Client(host=main)

    listed = client.list()
    names = [m.model for m in listed.models]
    assert STARTER_ID in names
    starter = listed.models[names.index(STARTER_ID)]
    assert starter.details is not None and starter.details.format == "gguf"
    assert starter.details.family and starter.details.quantization_level
    assert starter.size and starter.digest and starter.modified_at is not None

    answer = client.chat(model=STARTER_ID, messages=ASK, stream=False, options=SHORT)
    assert answer.message.content and answer.done and answer.done_reason in ("stop", "length")
    assert answer.eval_count and answer.prompt_eval_count and answer.total_duration

    pieces = list(client.chat(model=STARTER_ID, messages=ASK, options=SHORT, stream=True))
    assert len(pieces) > 2 and pieces[-1].done and not pieces[0].done
    assert "".join(p.message.content or "" for p in pieces)

    # Ollama's default tag names the same installed model; the answer echoes the name asked.
    generated = client.generate(model=f"{STARTER_ID}:latest", prompt="Hi", options=SHORT)
    assert generated.response and generated.model == f"{STARTER_ID}:latest"

    structured = client.chat(
        model=STARTER_ID, messages=ASK, format="json", options={"num_predict": 24}
    )
    assert structured.message.content and structured.message.content.lstrip().startswith("{")

    vectors = client.embed(model=STARTER_ID, input=["one", "two"]).embeddings
    assert len(vectors) == 2 and len(vectors[0]) > 100
    assert len(client.embeddings(model=STARTER_ID, prompt="one").embedding) == len(vectors[0])

    shown = client.show(STARTER_ID)
    assert shown.capabilities and "completion" in shown.capabilities
    assert shown.modelinfo and shown.modelinfo["general.architecture"] == starter.details.family
    assert shown.template

    running = client.ps().models
    assert [m.model for m in running] == [STARTER_ID]
    assert running[0].expires_at is not None and running[0].size

    with pytest.raises(ollama.ResponseError) as unknown:
        client.chat(model="no-such-model:7b", messages=ASK)
    assert unknown.value.status_code == 404 and "not found" in unknown.value.error

    # The same API on the Ollama port.
    assert STARTER_ID in [m.model for m in ollama.Client(host=ollama_port).list().models]

    # Every generation and embedding went through the router, recorded as this API's.
    # Rows are written in batches a moment after each answer: wait for the last one.
    deadline = time.monotonic() + 10
    while len(rows := asyncio.run(_recent(paths))) < 6:  # four generations, two embeddings
        assert time.monotonic() < deadline, f"only {len(rows)} requests were recorded"
        time.sleep(0.1)
    assert {r.source for r in rows} == {"ollama"}
    usage = subprocess.run(
        [sys.executable, "-m", "lexitui", "usage", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(usage.stdout)["stats"]["total_requests"] >= 5

    # keep_alive 0 with no prompt unloads, as in Ollama; an empty generate loads it again.
    unloaded = client.generate(model=STARTER_ID, keep_alive=0)
    assert unloaded.done and unloaded.done_reason == "unload"
    assert client.ps().models == []
    loaded = client.generate(model=STARTER_ID, keep_alive="2h")
    assert loaded.done_reason == "load"
    [running] = client.ps().models
    assert running.model == STARTER_ID
    # A load on demand like any other: its keep-alive is the one the client asked for.
    assert running.expires_at is not None
    left = running.expires_at - datetime.now(UTC)
    assert timedelta(hours=1, minutes=50) < left <= timedelta(hours=2)


async def _recent(paths: Paths) -> list[object]:
    store = Store(paths.database)
    await store.open()
    try:
        return list(await RoutedRequestRows(store).recent(50))
    finally:
        await store.close()


def test_a_taken_ollama_port_is_one_line_and_the_main_port_serves_on() -> None:
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen()  # as a running Ollama would hold it
    taken = holder.getsockname()[1]
    try:
        with running_serve("--ollama-port", str(taken)) as (url, proc):
            assert proc.stdout is not None
            said = proc.stdout.readline()
            assert said.startswith("lexitui: Ollama API only on the main port")
            assert str(taken) in said and said[-1] == "\n"
            main = url.removesuffix("/v1")
            assert ollama.Client(host=main).list().models is not None
            assert proc.poll() is None
    finally:
        holder.close()

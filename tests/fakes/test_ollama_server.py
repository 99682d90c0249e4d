"""The fake Ollama conforms to the published API (docs/api.md), checked with plain httpx calls.

Shapes, framing and errors are checked without an engine; generation, chat and embeddings run
for real through the embedded llama.cpp engine (one per module: it takes a second to start).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.fakes import FakeOllama
from tests.fakes.ollama_testing import embedded_engine, read_ndjson, tiny_gguf

pytestmark = pytest.mark.asyncio(loop_scope="module")
STATS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)
MODEL = "smollm2:135m"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def engine_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with embedded_engine(tmp_path_factory.mktemp("engine")) as url:
        yield url


@pytest_asyncio.fixture(loop_scope="module")
async def api() -> AsyncIterator[tuple[FakeOllama, httpx.AsyncClient]]:
    async with FakeOllama(None) as fake, httpx.AsyncClient(base_url=fake.base_url) as client:
        yield fake, client


@pytest_asyncio.fixture(loop_scope="module")
async def live(engine_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        FakeOllama(engine_url) as fake,
        httpx.AsyncClient(base_url=fake.base_url, timeout=60) as client,
    ):
        yield client


def go_time(text: str) -> datetime:
    """Ollama sends Go RFC 3339 with up to nine fraction digits; Python keeps six."""
    return datetime.fromisoformat(text)


def error_of(reply: httpx.Response) -> str:
    assert reply.headers["content-type"].startswith("application/json")
    return str(reply.json()["error"])


# -- shapes and errors, no engine ------------------------------------------------------------


async def test_root_version_and_tags(api: tuple[FakeOllama, httpx.AsyncClient]) -> None:
    _, client = api
    assert (await client.get("/")).text == "Ollama is running"
    assert isinstance((await client.get("/api/version")).json()["version"], str)
    [entry] = (await client.get("/api/tags")).json()["models"]
    assert entry["name"] == entry["model"] == MODEL
    assert len(entry["digest"]) == 64 and entry["size"] > 0
    assert set(entry["details"]) == {
        "parent_model",
        "format",
        "family",
        "families",
        "parameter_size",
        "quantization_level",
    }
    assert go_time(entry["modified_at"]).tzinfo is not None


async def test_errors_have_documented_bodies_and_statuses(
    api: tuple[FakeOllama, httpx.AsyncClient],
) -> None:
    _, client = api
    missing = await client.post("/api/generate", json={"model": "nope", "prompt": "x"})
    assert (missing.status_code, error_of(missing)) == (404, "model 'nope' not found")
    empty = await client.post("/api/chat", content=b"")
    assert (empty.status_code, error_of(empty)) == (400, "missing request body")
    assert (await client.post("/api/generate", content=b"{oops")).status_code == 400
    assert (await client.post("/api/show", json={})).status_code == 400
    bad_keep = await client.post("/api/generate", json={"model": MODEL, "keep_alive": "soon"})
    assert (bad_keep.status_code, error_of(bad_keep)) == (400, 'time: invalid duration "soon"')
    think = await client.post("/api/chat", json={"model": MODEL, "messages": [], "think": True})
    assert (think.status_code, error_of(think)) == (400, f'"{MODEL}" does not support thinking')
    assert (await client.post("/api/show", json={"model": "nope"})).status_code == 404
    assert (await client.request("DELETE", "/api/delete", json={"model": "x"})).status_code == 404
    no_engine = await client.post("/api/generate", json={"model": MODEL, "prompt": "hi"})
    assert no_engine.status_code == 500 and error_of(no_engine)
    assert (await client.get("/api/nothing")).status_code == 404
    assert (await client.get("/api/generate")).status_code == 405


async def test_load_keep_alive_and_unload_drive_ps(
    api: tuple[FakeOllama, httpx.AsyncClient],
) -> None:
    _, client = api
    load = (await client.post("/api/generate", json={"model": MODEL, "keep_alive": "300ms"})).json()
    assert (load["response"], load["done"], load["done_reason"]) == ("", True, "load")
    [running] = (await client.get("/api/ps")).json()["models"]
    assert running["name"] == MODEL and running["size_vram"] == running["size"] > 0
    left = go_time(running["expires_at"]) - datetime.now().astimezone()
    assert timedelta(0) < left <= timedelta(milliseconds=300)
    await asyncio.sleep(0.4)
    assert (await client.get("/api/ps")).json()["models"] == [], "keep_alive expired"

    forever = {"model": MODEL, "messages": [], "keep_alive": -1}
    chat = (await client.post("/api/chat", json=forever)).json()
    assert chat["message"] == {"role": "assistant", "content": ""}
    assert chat["done_reason"] == "load"
    [running] = (await client.get("/api/ps")).json()["models"]
    assert go_time(running["expires_at"]).year > 2300  # Go's now + MaxInt64 ns
    unload = (await client.post("/api/generate", json={"model": MODEL, "keep_alive": 0})).json()
    assert unload["done_reason"] == "unload"
    assert (await client.get("/api/ps")).json()["models"] == []


async def test_show_copy_delete(api: tuple[FakeOllama, httpx.AsyncClient]) -> None:
    fake, client = api
    show = (await client.post("/api/show", json={"model": "smollm2:135m"})).json()
    assert {"modelfile", "parameters", "template", "details", "model_info", "capabilities"} <= set(
        show
    )
    assert "completion" in show["capabilities"]
    copied = await client.post("/api/copy", json={"source": MODEL, "destination": "backup"})
    assert copied.status_code == 200
    names = {m["name"] for m in (await client.get("/api/tags")).json()["models"]}
    assert names == {MODEL, "backup:latest"}
    gone = await client.request("DELETE", "/api/delete", json={"model": "backup"})
    assert gone.status_code == 200 and "backup:latest" not in fake.models
    assert fake.requests[-1] == ("DELETE", "/api/delete", {"model": "backup"})


async def test_pull_streams_per_digest_progress(api: tuple[FakeOllama, httpx.AsyncClient]) -> None:
    fake, client = api
    lines = await read_ndjson(client, "/api/pull", {"model": "all-minilm"})
    statuses = [line["status"] for line in lines]
    assert statuses[0] == "pulling manifest"
    assert statuses[-4:] == [
        "verifying sha256 digest",
        "writing manifest",
        "removing any unused layers",
        "success",
    ]
    by_digest: dict[str, list[dict[str, Any]]] = {}
    for line in lines[1:-4]:
        by_digest.setdefault(line["digest"], []).append(line)
    assert len(by_digest) >= 3, "model, template and config layers"
    for digest, progress in by_digest.items():
        assert progress[0]["status"] == f"pulling {digest[7:19]}"
        assert "completed" not in progress[0], "nothing downloaded yet"
        done = [p["completed"] for p in progress[1:]]
        assert done == sorted(done) and done[-1] == progress[0]["total"]
        blob = fake.blob_path(digest)
        assert blob is not None and hashlib.sha256(blob.read_bytes()).hexdigest() == digest[7:]
        assert (await client.head(f"/api/blobs/{digest}")).status_code == 200
    tags = (await client.get("/api/tags")).json()["models"]
    assert "all-minilm:latest" in {m["name"] for m in tags}


async def test_pull_without_stream_and_unknown_models(
    api: tuple[FakeOllama, httpx.AsyncClient],
) -> None:
    _, client = api
    reply = await client.post("/api/pull", json={"model": MODEL, "stream": False})
    assert reply.json() == {"status": "success"}
    lines = await read_ndjson(client, "/api/pull", {"model": "no-such-model"})
    assert lines == [
        {"status": "pulling manifest"},
        {"error": "pull model manifest: file does not exist"},
    ]
    quiet = await client.post("/api/pull", json={"model": "no-such-model", "stream": False})
    assert (quiet.status_code, error_of(quiet)) == (500, "pull model manifest: file does not exist")


async def test_pull_resumes_after_disconnect_and_checks_digests(
    api: tuple[FakeOllama, httpx.AsyncClient],
) -> None:
    fake, client = api
    fake.pull_delay_s, fake.pull_chunk_bytes = 0.02, 64 * 1024
    started = time.monotonic()
    async with client.stream("POST", "/api/pull", json={"model": "all-minilm"}) as reply:
        async for line in reply.aiter_lines():
            if json.loads(line).get("completed", 0) >= 3 * 64 * 1024:
                break  # hang up mid-layer
    assert time.monotonic() - started < 1.0, "progress lines must arrive as they happen"
    fake.pull_delay_s = 0
    lines = await read_ndjson(client, "/api/pull", {"model": "all-minilm"})
    assert lines[1]["completed"] >= 3 * 64 * 1024, "resumed from the partial download"
    assert lines[-1] == {"status": "success"}

    await client.request("DELETE", "/api/delete", json={"model": "all-minilm"})
    for blob in fake.blobs_dir.iterdir():
        blob.unlink()
    fake.pull_corrupt = True
    lines = await read_ndjson(client, "/api/pull", {"model": "all-minilm"})
    assert lines[-2]["status"] == "verifying sha256 digest"
    assert lines[-1]["error"].startswith("digest mismatch, file must be downloaded again")


async def test_blobs_then_create_from_files(
    api: tuple[FakeOllama, httpx.AsyncClient], tmp_path: Path
) -> None:
    fake, client = api
    data = tiny_gguf(tmp_path / "tiny.gguf")
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    assert (await client.head(f"/api/blobs/{digest}")).status_code == 404
    assert (await client.head("/api/blobs/sha256:xyz")).status_code == 400
    wrong = await client.post(f"/api/blobs/{digest}", content=data + b"!")
    assert wrong.status_code == 400 and error_of(wrong).startswith("digest mismatch")

    async def chunks() -> AsyncIterator[bytes]:  # a streamed (chunked) upload, as from a file
        for start in range(0, len(data), 100):
            yield data[start : start + 100]

    assert (await client.post(f"/api/blobs/{digest}", content=chunks())).status_code == 201
    assert (await client.post(f"/api/blobs/{digest}", content=data)).status_code == 200
    assert (await client.head(f"/api/blobs/{digest}")).status_code == 200

    body = {"model": "tiny", "files": {"tiny.gguf": digest}, "system": "Be brief."}
    statuses = [line["status"] for line in await read_ndjson(client, "/api/create", body)]
    assert statuses[:2] == ["parsing GGUF", f"using existing layer {digest}"]
    assert statuses[2].startswith("creating new layer sha256:")
    assert statuses[-2:] == ["writing manifest", "success"]
    details = (await client.post("/api/show", json={"model": "tiny"})).json()["details"]
    assert (details["family"], details["quantization_level"]) == ("llama", "F16")
    assert fake.models["tiny:latest"].system == "Be brief."

    quantized = {"model": "tiny-q", "from": "tiny", "quantize": "q4_K_M", "stream": False}
    assert (await client.post("/api/create", json=quantized)).json() == {"status": "success"}
    assert fake.models["tiny-q:latest"].quantization_level == "Q4_K_M"
    again = await client.post("/api/create", json={**quantized, "from": "tiny-q"})
    assert (again.status_code, error_of(again)) == (
        400,
        "quantization is only supported for F16 and F32 models",
    )
    neither = await client.post("/api/create", json={"model": "x"})
    assert (neither.status_code, error_of(neither)) == (
        400,
        "neither 'from' or 'files' was specified",
    )
    bad = await client.post("/api/create", json={"model": "x", "files": {"a.gguf": "md5:1"}})
    assert (bad.status_code, error_of(bad)) == (400, "invalid digest format")
    absent = {"model": "x", "files": {"a.gguf": "sha256:" + "0" * 64}, "stream": False}
    assert (await client.post("/api/create", json=absent)).status_code == 500


async def test_fail_next_answers_once_and_requests_are_recorded(
    api: tuple[FakeOllama, httpx.AsyncClient],
) -> None:
    fake, client = api
    fake.fail_next = 503
    failed = await client.get("/api/tags")
    assert failed.status_code == 503 and "error" in failed.json()
    assert (await client.get("/api/tags")).status_code == 200
    assert fake.requests[-2:] == [("GET", "/api/tags", None)] * 2


# -- real generation through the embedded engine ---------------------------------------------


@pytest.mark.engine
async def test_generate_streams_ndjson_then_real_figures(live: httpx.AsyncClient) -> None:
    greedy = {"num_predict": 12, "temperature": 0, "seed": 1}  # a sampled answer may end early
    body = {"model": MODEL, "prompt": "Why is the sky blue?", "options": greedy}
    started = time.monotonic()
    arrivals: list[float] = []
    lines: list[dict[str, Any]] = []
    async with live.stream("POST", "/api/generate", json=body) as reply:
        assert reply.headers["content-type"] == "application/x-ndjson"
        async for raw in reply.aiter_lines():
            arrivals.append(time.monotonic() - started)
            lines.append(json.loads(raw))
    *pieces, final = lines
    assert len(pieces) >= 2 and arrivals[-1] > arrivals[0], "pieces must stream, not arrive at once"
    for piece in pieces:
        assert set(piece) == {"model", "created_at", "response", "done"} and not piece["done"]
        go_time(piece["created_at"])
    assert final["done"] is True and final["response"] == "" and final["done_reason"] == "length"
    assert final["eval_count"] == 12 and all(final[k] > 0 for k in STATS)
    assert final["total_duration"] >= final["eval_duration"]
    assert "".join(p["response"] for p in pieces).strip()


@pytest.mark.engine
async def test_generate_and_chat_without_streaming(live: httpx.AsyncClient) -> None:
    # Greedy and seeded: a sampled answer may end before its 6th token.
    options = {"num_predict": 6, "temperature": 0, "seed": 1}
    body = {"model": MODEL, "prompt": "Say hello.", "stream": False, "options": options}
    reply = await live.post("/api/generate", json=body)
    assert reply.headers["content-type"].startswith("application/json")
    result = reply.json()
    assert result["done"] and result["response"] and result["eval_count"] == 6
    assert isinstance(result["context"], list)
    messages = [{"role": "user", "content": "Name a colour."}]
    chat = {"model": MODEL, "messages": messages, "stream": False, "options": {"num_predict": 6}}
    answer = (await live.post("/api/chat", json=chat)).json()
    assert answer["message"]["role"] == "assistant" and answer["message"]["content"]
    assert answer["done_reason"] in ("stop", "length") and answer["prompt_eval_count"] > 0
    running = (await live.get("/api/ps")).json()["models"]
    left = go_time(running[0]["expires_at"]) - datetime.now().astimezone()
    assert timedelta(minutes=4) < left <= timedelta(minutes=5), "default keep_alive is 5m"


@pytest.mark.engine
async def test_chat_streams_assistant_messages(live: httpx.AsyncClient) -> None:
    messages = [{"role": "user", "content": "Count to three."}]
    lines = await read_ndjson(
        # Greedy and seeded: an answer whose 8th token is the end would say "stop" at 8.
        live,
        "/api/chat",
        {
            "model": MODEL,
            "messages": messages,
            "options": {"num_predict": 8, "temperature": 0, "seed": 1},
        },
    )
    *pieces, final = lines
    assert all(p["message"]["role"] == "assistant" and not p["done"] for p in pieces)
    assert final["message"] == {"role": "assistant", "content": ""}
    assert all(final[k] > 0 for k in STATS) and final["eval_count"] <= 8
    assert final["done_reason"] == ("length" if final["eval_count"] == 8 else "stop")


@pytest.mark.engine
async def test_embed_string_or_list(live: httpx.AsyncClient) -> None:
    one = (await live.post("/api/embed", json={"model": MODEL, "input": "hello"})).json()
    two = (await live.post("/api/embed", json={"model": MODEL, "input": ["a", "b c"]})).json()
    assert len(one["embeddings"]) == 1 and len(two["embeddings"]) == 2
    vector = one["embeddings"][0]
    assert len(vector) == 576 and math.isclose(math.hypot(*vector), 1.0, rel_tol=1e-3)
    assert one["prompt_eval_count"] > 0 and one["total_duration"] > 0
    bad = await live.post("/api/embed", json={"model": MODEL, "input": 3})
    assert (bad.status_code, error_of(bad)) == (400, "invalid input type")
    legacy = (await live.post("/api/embeddings", json={"model": MODEL, "prompt": "hi"})).json()
    assert len(legacy["embedding"]) == 576


@pytest.mark.engine
async def test_model_created_from_another_generates(live: httpx.AsyncClient) -> None:
    body = {"model": "mario", "from": MODEL, "system": "You are Mario.", "stream": False}
    assert (await live.post("/api/create", json=body)).json() == {"status": "success"}
    request = {
        "model": "mario",
        "prompt": "Who are you?",
        "stream": False,
        "options": {"num_predict": 4, "temperature": 0, "seed": 1},
    }
    reply = (await live.post("/api/generate", json=request)).json()
    assert reply["model"] == "mario" and reply["eval_count"] == 4

"""Each engine kind, for real: start, health, generate, stream, stop, bad files, the secret."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.domain.inference import LocalGenerationChunk, LocalGenerationRequest
from lexitui.engine.errors import EngineError
from lexitui.engine.kinds import EngineKind
from lexitui.engine.options import EngineOptions
from lexitui.engine.process import EngineProcess
from lexitui.runtime.generation import stream_generation

pytestmark = pytest.mark.engine

SMALL = EngineOptions(context_length=1024)


@pytest.fixture
async def engine(
    starter_path: Path, tmp_path: Path, engine_kind: EngineKind
) -> AsyncIterator[EngineProcess]:
    process = EngineProcess(starter_path, tmp_path / "engine.log", SMALL, engine_kind)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


async def test_starts_healthy_on_loopback_and_generates(engine: EngineProcess) -> None:
    assert engine.base_url.startswith("http://127.0.0.1:")
    async with httpx.AsyncClient(
        base_url=engine.base_url, headers=engine.auth_headers, timeout=60
    ) as client:
        assert (await client.get("/health")).json() == {"status": "ok"}
        reply = await client.post(
            "/v1/chat/completions",
            json={
                "messages": [{"role": "user", "content": "Say hi"}],
                "max_tokens": 8,
                "seed": 1,
                "temperature": 0,
            },
        )
    body = reply.json()
    assert reply.status_code == 200
    assert body["usage"]["completion_tokens"] > 0
    assert body["choices"][0]["message"]["content"].strip()


async def test_streams_tokens_then_figures(engine: EngineProcess) -> None:
    pieces: list[LocalGenerationChunk] = []
    request = LocalGenerationRequest(
        messages=(LocalChatMessage(ChatRole.USER, "Count from one to five."),),
        max_tokens=16,
        temperature=0,
        seed=1,
    )
    async with httpx.AsyncClient(base_url=engine.base_url, headers=engine.auth_headers) as client:
        async for piece in stream_generation(client, request, "starter"):
            pieces.append(piece)
    deltas = [p for p in pieces if p.text]
    done = pieces[-1].result
    assert done is not None and pieces[-1].is_complete
    assert len(deltas) >= 2, "tokens must arrive as a stream, not in one piece"
    assert done.text == "".join(d.text for d in deltas)
    assert done.usage.completion_tokens == 16 and done.finish_reason == "length"
    assert done.metrics.ttft_ms > 0 and done.metrics.tokens_per_second > 0


async def test_stop_ends_the_process_and_frees_the_port(engine: EngineProcess) -> None:
    url = engine.base_url
    await engine.stop()
    assert not engine.running
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(base_url=url) as client:
            await client.get("/health")


async def test_corrupt_gguf_fails_fast_with_the_engine_reason(
    tmp_path: Path, engine_kind: EngineKind
) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"NOTAGGUF" + b"\0" * 4096)
    started = time.monotonic()
    # llama.cpp's words ("invalid magic"), or lexitui's own reader's ("bad magic") when a
    # llama-server exited before writing its log.
    with pytest.raises(EngineError, match=r"(invalid|bad) magic"):
        await EngineProcess(bad, tmp_path / "bad.log", SMALL, engine_kind).start(timeout=60)
    assert time.monotonic() - started < 30


async def test_truncated_gguf_fails_with_a_clear_error(
    starter_path: Path, tmp_path: Path, engine_kind: EngineKind
) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(starter_path.read_bytes()[:200_000])
    with pytest.raises(EngineError, match="could not load the model"):
        await EngineProcess(cut, tmp_path / "cut.log", SMALL, engine_kind).start(timeout=60)


async def test_missing_model_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="not found"):
        await EngineProcess(tmp_path / "nope.gguf", tmp_path / "x.log").start()


async def test_the_engine_answers_only_requests_with_its_secret(engine: EngineProcess) -> None:
    assert engine.api_key and len(engine.api_key) >= 32
    # llama-server lists its model's name to anyone, by design; the embedded engine does not.
    listing = [] if engine.kind.binary else [("GET", "/v1/models", None)]
    calls = [
        *listing,
        ("GET", "/props", None),
        ("GET", "/slots", None),
        ("POST", "/completion", {"prompt": "hi", "n_predict": 1}),
        ("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]}),
    ]
    async with httpx.AsyncClient(base_url=engine.base_url, timeout=60) as client:
        for method, path, body in calls:
            refused = await client.request(method, path, json=body)
            assert refused.status_code == 401, (path, refused.status_code)
            wrong = await client.request(
                method, path, json=body, headers={"Authorization": "Bearer not-the-secret"}
            )
            assert wrong.status_code == 401, (path, wrong.status_code)
        models = await client.get("/v1/models", headers=engine.auth_headers)
        assert models.status_code == 200
        assert engine.api_key not in models.text
    # The secret reaches the engine through its environment: never its command line (which
    # every user can read) nor its log.
    assert engine.pid is not None
    with open(f"/proc/{engine.pid}/cmdline", "rb") as cmdline:
        assert engine.api_key.encode() not in cmdline.read()
    assert engine.api_key not in engine.log_path.read_text(errors="replace")
    assert engine.api_key not in repr(engine)


async def test_each_start_gets_a_new_secret(
    starter_path: Path, tmp_path: Path, engine_kind: EngineKind
) -> None:
    process = EngineProcess(starter_path, tmp_path / "engine.log", SMALL, engine_kind)
    keys = []
    for _ in range(2):
        await process.start()
        keys.append(process.api_key)
        await process.stop()
    assert keys[0] and keys[1] and keys[0] != keys[1]


async def test_load_options_reach_the_engine(
    starter_path: Path, tmp_path: Path, engine_kind: EngineKind
) -> None:
    options = EngineOptions(
        context_length=1536,
        parallel=2,
        threads=2,
        batch_size=256,
        use_mmap=False,
        flash_attention="on",
        kv_cache_type="q8_0",
        embedding=True,
    )
    process = EngineProcess(starter_path, tmp_path / "engine.log", options, engine_kind)
    await process.start()
    try:
        async with httpx.AsyncClient(
            base_url=process.base_url, headers=process.auth_headers, timeout=60
        ) as client:
            assert (await client.get("/props")).json()["total_slots"] == 2
            slots = (await client.get("/slots")).json()
            assert [s["n_ctx"] for s in slots] == [768, 768]  # the context, shared by 2 slots
            embedded = await client.post("/v1/embeddings", json={"input": "a cat"})
            assert embedded.status_code == 200
            assert len(embedded.json()["data"][0]["embedding"]) == 576
            metrics = await client.get("/metrics")
            assert metrics.status_code == 200 and "llamacpp:prompt_tokens_total" in metrics.text
    finally:
        await process.stop()

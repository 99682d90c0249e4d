"""The Ollama backend against the fake Ollama (tests/fakes), which follows Ollama's published API
and generates with the real embedded engine. Plus the cases with no Ollama at all.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import gguf
import pytest
import pytest_asyncio

from lexitui.backends.errors import BackendError, BackendProtocolError, BackendUnavailable
from lexitui.backends.ollama import OllamaBackend
from lexitui.backends.ollama_instance import OllamaModelInstance
from lexitui.backends.ollama_records import context_length_from_show
from lexitui.domain.backends import GenerationRequest, ModelLoadOptions, ModelPullProgress
from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import BackendStatus, ChatRole, ModelInstanceStatus
from tests.backends.servers import Request, ScriptedServer, chunk, end_chunked, start_chunked
from tests.fakes import FakeOllama, fake_ollama

pytestmark = [pytest.mark.engine, pytest.mark.asyncio(loop_scope="module")]
MODEL = "smollm2:135m"
LOAD = ModelLoadOptions(context_length=1024, gpu_layers=0, threads=2, keep_alive="10m")


@pytest_asyncio.fixture(loop_scope="module")
async def fake(engine_url: str) -> AsyncIterator[FakeOllama]:
    async with fake_ollama(engine_url) as server:
        yield server


@pytest_asyncio.fixture(loop_scope="module")
async def ollama(fake: FakeOllama) -> AsyncIterator[OllamaBackend]:
    backend = OllamaBackend(environ={"OLLAMA_HOST": fake.base_url})
    try:
        yield backend
    finally:
        await backend.aclose()


def posted(fake: FakeOllama, path: str) -> list[dict[str, object]]:
    return [body for method, p, body in fake.requests if p == path and method == "POST"]


async def test_nothing_listening_at_the_default_address() -> None:
    backend = OllamaBackend(environ={})
    assert backend.endpoint == "http://127.0.0.1:11434"
    health = await backend.check_health()
    assert health.status is BackendStatus.STOPPED
    assert health.message == "not found at 127.0.0.1:11434 (connection refused)"
    assert not await backend.is_available()
    with pytest.raises(BackendUnavailable, match=r"^ollama \(http://127.0.0.1:11434\): not found"):
        await backend.list_models()
    await backend.aclose()


async def test_health_info_and_models(ollama: OllamaBackend) -> None:
    health = await ollama.check_health()
    assert health.status is BackendStatus.RUNNING and health.message == "version 0.12.6"
    info = await ollama.get_info()
    assert info.version == "0.12.6" and info.supports_embeddings
    (model,) = await ollama.list_models()
    assert (model.id, model.family, model.parameter_size, model.quantization, model.format) == (
        MODEL,
        "llama",
        "135M",
        "Q4_1",
        "gguf",
    )
    assert model.loaded is False and model.size_bytes and model.size_bytes > 1_000_000
    assert isinstance(model.modified_at, datetime)
    assert context_length_from_show(await ollama.show(MODEL)) == 8192


async def test_load_sends_keep_alive_and_mapped_options_then_unload(
    fake: FakeOllama, ollama: OllamaBackend
) -> None:
    instance = await ollama.load_model(MODEL, LOAD)
    body = posted(fake, "/api/generate")[-1]
    assert body == {
        "model": MODEL,
        "stream": False,
        "options": {"num_gpu": 0, "num_ctx": 1024, "num_thread": 2},
        "keep_alive": "10m",
    }
    (running,) = await ollama.running_models()
    assert running.name == MODEL and running.expires_at is not None
    assert running.expires_at > datetime.now(UTC) + timedelta(minutes=9)
    assert [m.loaded for m in await ollama.list_models()] == [True]
    await instance.unload()
    assert posted(fake, "/api/generate")[-1] == {"model": MODEL, "keep_alive": 0, "stream": False}
    assert await ollama.running_models() == []
    assert instance.status is ModelInstanceStatus.DISPOSED


async def test_generate_stream_and_chat(fake: FakeOllama, ollama: OllamaBackend) -> None:
    instance = await ollama.load_model(MODEL, LOAD)
    result = await instance.generate(
        GenerationRequest(prompt="Say hi.", max_tokens=6, temperature=0, seed=1)
    )
    assert result.text and result.completion_tokens == 6 and result.finish_reason == "length"
    body = posted(fake, "/api/generate")[-1]
    assert body["options"] == {
        "num_gpu": 0,
        "num_ctx": 1024,
        "num_thread": 2,
        "num_predict": 6,
        "temperature": 0,
        "seed": 1,
    }
    assert body["keep_alive"] == "10m" and body["stream"] is True

    chat = GenerationRequest(
        system_prompt="Answer in one word.",
        messages=[],
        prompt="Colour of the sky?",
        max_tokens=5,
        temperature=0,
        seed=1,
    )
    tokens = [t async for t in instance.generate_stream(chat)]
    final = tokens[-1]
    assert len(tokens) >= 3 and final.is_complete
    # A one-word answer may end before the budget: then it must say it stopped, not ran out.
    assert final.completion_tokens is not None and 1 <= final.completion_tokens <= 5
    assert final.completion_tokens == 5 or final.finish_reason == "stop"
    sent = posted(fake, "/api/chat")[-1]
    assert sent["messages"] == [
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": "Colour of the sky?"},
    ]
    history = GenerationRequest(messages=[LocalChatMessage(ChatRole.USER, "Hi")], max_tokens=3)
    assert (await instance.generate(history)).completion_tokens == 3


async def test_embed(ollama: OllamaBackend) -> None:
    instance = await ollama.load_model(MODEL)
    result = await instance.embed(["a", "b", "c"])
    assert len(result.vectors) == 3 and result.dimensions == 576
    assert result.prompt_tokens and result.prompt_tokens >= 3


async def test_pull_reports_progress_and_installs(fake: FakeOllama, ollama: OllamaBackend) -> None:
    fake.pull_chunk_bytes = 256 * 1024
    seen: list[ModelPullProgress] = []
    result = await ollama.pull_model("all-minilm", seen.append)
    assert result.success, result.error
    assert seen[0].status == "pulling manifest" and seen[-1].status == "success"
    layer = [p for p in seen if p.total_bytes and p.total_bytes >= 1 << 20]
    fractions = [p.fraction for p in layer]
    assert len(fractions) >= 3 and fractions[-1] == 1.0
    assert fractions[0] == 0.0 and fractions == sorted(f or 0.0 for f in fractions)
    assert "all-minilm:latest" in {m.id for m in await ollama.list_models()}

    missing = await ollama.pull_model("no-such-model")
    assert not missing.success and missing.error is not None
    assert "file does not exist" in missing.error


async def test_delete_and_error_bodies(fake: FakeOllama, ollama: OllamaBackend) -> None:
    await ollama.pull_model("all-minilm")
    await ollama.delete_model("all-minilm")
    assert "all-minilm:latest" not in {m.id for m in await ollama.list_models()}
    with pytest.raises(BackendError) as caught:
        await ollama.delete_model("all-minilm")
    assert caught.value.status_code == 404
    assert str(caught.value) == (
        f"ollama ({fake.base_url}): HTTP 404: model 'all-minilm' not found"
    )
    with pytest.raises(BackendError, match="HTTP 404: model 'nope' not found"):
        await ollama.load_model("nope")
    fake.fail_next = 500
    health = await ollama.check_health()
    assert health.status is BackendStatus.ERROR
    assert health.message == "HTTP 500: injected failure (HTTP 500)"


def tiny_gguf(path: Path) -> Path:
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(2048)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


async def test_create_from_a_local_gguf_uploads_the_blob_once(
    fake: FakeOllama, ollama: OllamaBackend, tmp_path: Path
) -> None:
    path = tiny_gguf(tmp_path / "tiny.gguf")
    statuses: list[str] = []
    result = await ollama.create_model("tiny:q8", path, lambda p: statuses.append(p.status))
    assert result.success, result.error
    assert statuses[-1] == "success" and "parsing GGUF" in statuses
    digest = await ollama.push_blob(path)
    assert await ollama.blob_exists(digest)
    uploads = [r for r in fake.requests if r[0] == "POST" and r[1].startswith("/api/blobs/")]
    assert len(uploads) == 1, "the second push found the blob and skipped the upload"
    created = {m.id: m for m in await ollama.list_models()}["tiny:q8"]
    assert created.family == "llama" and created.quantization == "Q8_0"
    with pytest.raises(BackendError, match="not a sha256 digest"):
        await ollama.blob_exists("sha256:../../etc/passwd")


async def test_an_error_line_mid_stream_and_a_stream_without_done() -> None:
    lines = {"tail": '{"error": "llama runner process has terminated"}\n'}

    async def ndjson(request: Request, writer: asyncio.StreamWriter) -> None:
        await start_chunked(writer, "application/x-ndjson")
        await chunk(writer, '{"response": "Hel", "done": false}\n')
        await chunk(writer, lines["tail"])
        await end_chunked(writer)

    async with ScriptedServer(ndjson) as server:
        backend = OllamaBackend(url=server.url)
        instance = OllamaModelInstance(backend, MODEL, None)
        with pytest.raises(BackendError, match="llama runner process has terminated"):
            await instance.generate(GenerationRequest(prompt="x"))
        lines["tail"] = ""
        with pytest.raises(BackendProtocolError, match="ended without a final 'done' line"):
            await instance.generate(GenerationRequest(prompt="x"))
        await backend.aclose()


async def test_ollama_host_port_is_what_the_connection_refusal_names() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = OllamaBackend(environ={"OLLAMA_HOST": f"0.0.0.0:{port}"})
    assert backend.endpoint == f"http://127.0.0.1:{port}"
    assert backend.transport.hostport == f"127.0.0.1:{port}"

"""llama.cpp's server reached by URL (connect mode): native endpoints on the real engine, and the
answers a wrong or loading server gives."""

from __future__ import annotations

import asyncio

import pytest

from lexitui.backends.llamacpp import LlamaCppBackend
from lexitui.domain.backends import GenerationRequest
from lexitui.domain.enums import BackendStatus, InferenceBackendType
from tests.backends.servers import Request, ScriptedServer, send

pytestmark = [pytest.mark.engine, pytest.mark.asyncio(loop_scope="module")]


async def test_connects_to_a_running_server_and_reads_native_endpoints(engine_url: str) -> None:
    backend = LlamaCppBackend("remote", engine_url)
    try:
        health = await backend.check_health()
        assert health.status is BackendStatus.RUNNING and health.running_requests == 0
        props = await backend.props()
        assert props.context_length == 1024 and props.total_slots == 1
        assert props.build  # llama.cpp's build string
        info = await backend.get_info()
        assert info.type is InferenceBackendType.LLAMA_CPP
        assert info.version == props.build and info.max_concurrency == 1
        assert await backend.tokenize("hello") == await backend.tokenize("hello")
        (model,) = await backend.list_models()
        instance = await backend.load_model(model.id)
        assert (await instance.generate(GenerationRequest(prompt="Hi", max_tokens=3))).text
    finally:
        await backend.aclose()


async def test_a_loading_server_is_starting_and_a_stranger_is_named() -> None:
    async def loading(request: Request, writer: asyncio.StreamWriter) -> None:
        body = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
        await send(writer, 503, body)

    async def stranger(request: Request, writer: asyncio.StreamWriter) -> None:
        await send(writer, 404, "404 page not found", "text/plain")

    async with ScriptedServer(loading) as server:
        backend = LlamaCppBackend("remote", server.url)
        health = await backend.check_health()
        assert (health.status, health.message) == (BackendStatus.STARTING, "Loading model")
        server.handler = stranger
        health = await backend.check_health()
        assert health.status is BackendStatus.ERROR
        assert health.message == "no /health here: is this a llama.cpp server?"
        await backend.aclose()

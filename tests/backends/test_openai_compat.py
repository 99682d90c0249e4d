"""OpenAI-compatible flavours against the real engine's ``/v1``, and API key handling.

The engine is started once for the module; every flavour class is pointed at it, since they all
speak the same API and differ only in defaults. API key tests use a scripted server that records
the headers it receives (and, to be hostile, echoes the key back in its error).
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from lexitui.backends.errors import BackendError
from lexitui.backends.openai_compat import (
    CustomBackend,
    LMStudioBackend,
    LocalAIBackend,
    TextGenWebUIBackend,
    VllmBackend,
)
from lexitui.domain.backends import GenerationRequest
from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import BackendStatus, ChatRole, InferenceBackendType
from tests.backends.servers import Request, ScriptedServer, send

pytestmark = [pytest.mark.engine, pytest.mark.asyncio(loop_scope="module")]
SECRET = "sk-test-7c1f0e9b2d"


async def test_custom_endpoint_at_v1_lists_generates_streams_and_embeds(engine_url: str) -> None:
    backend = CustomBackend("mine", f"{engine_url}/v1")
    try:
        assert backend.endpoint == f"{engine_url}/v1"
        health = await backend.check_health()
        assert health.status is BackendStatus.RUNNING and health.message == "1 model(s)"
        (model,) = await backend.list_models()
        assert model.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
        instance = await backend.load_model(model.name)  # the file name is enough
        assert instance.model_id == model.id
        chat = GenerationRequest(
            messages=[LocalChatMessage(ChatRole.USER, "Name a colour.")],
            max_tokens=6,
            temperature=0,
            seed=3,
        )
        result = await instance.generate(chat)
        assert result.text and result.completion_tokens == 6
        pieces = [t.text async for t in instance.generate_stream(chat) if not t.is_complete]
        assert "".join(pieces) == result.text  # same seed, temperature 0: same answer
        embedded = await instance.embed(["one"])
        assert embedded.dimensions == 576
        info = await backend.get_info()
        assert info.type is InferenceBackendType.CUSTOM and info.version == "unknown"
    finally:
        await backend.aclose()


@pytest.mark.parametrize(
    "flavour", [LMStudioBackend, VllmBackend, LocalAIBackend, TextGenWebUIBackend]
)
async def test_every_flavour_talks_to_the_same_api(engine_url: str, flavour: type) -> None:
    backend = flavour(url=engine_url)  # without /v1: added by the client
    try:
        models = await backend.list_models()
        instance = await backend.load_model(models[0].id)
        request = GenerationRequest(prompt="Hi", max_tokens=3, repetition_penalty=1.1)
        assert (await instance.generate(request)).completion_tokens == 3
    finally:
        await backend.aclose()


async def test_defaults_are_the_documented_ports() -> None:
    assert LMStudioBackend().endpoint == "http://127.0.0.1:1234"
    assert VllmBackend().endpoint == "http://127.0.0.1:8000"
    assert LocalAIBackend().endpoint == "http://127.0.0.1:8080"
    assert TextGenWebUIBackend().endpoint == "http://127.0.0.1:5000"
    with pytest.raises(ValueError, match="needs a URL"):
        CustomBackend("x")


async def test_asking_for_a_model_the_server_does_not_offer(engine_url: str) -> None:
    backend = CustomBackend("mine", engine_url)
    with pytest.raises(BackendError, match=r"model 'llama3:70b' is not offered \(offered: Smol"):
        await backend.load_model("llama3:70b")
    await backend.aclose()


async def test_vllm_reads_running_and_waiting_requests_from_metrics() -> None:
    metrics = (
        "# HELP vllm:num_requests_running Number of requests running.\n"
        "# TYPE vllm:num_requests_running gauge\n"
        'vllm:num_requests_running{model_name="a"} 2.0\n'
        'vllm:num_requests_running{model_name="b"} 1.0\n'
        'vllm:num_requests_waiting{model_name="a"} 4.0\n'
        "vllm:num_requests_waiting_by_reason 9\n"
    )

    async def vllm(request: Request, writer: asyncio.StreamWriter) -> None:
        if request.path == "/metrics":
            await send(writer, 200, metrics, "text/plain; version=0.0.4")
        elif request.path == "/version":
            await send(writer, 200, {"version": "0.6.3"})
        else:
            await send(writer, 200, "")

    async with ScriptedServer(vllm) as server:
        backend = VllmBackend(url=server.url)
        health = await backend.check_health()
        assert (health.running_requests, health.waiting_requests) == (3, 4)
        assert health.message == "3 running, 4 waiting"
        assert [r.path for r in server.requests] == ["/health", "/metrics"]
        assert (await backend.get_info()).version == "0.6.3"
        await backend.aclose()


# --- API keys ---------------------------------------------------------------------------------


async def record_then_refuse(request: Request, writer: asyncio.StreamWriter) -> None:
    auth = request.headers.get("authorization", "")
    if request.path.endswith("/models") and not auth:
        await send(writer, 200, {"data": [{"id": "m"}]})
    else:
        # A careless server that quotes the credential back in its error.
        await send(writer, 401, {"error": {"message": f"invalid key: {auth}"}})


async def test_no_authorization_header_unless_a_key_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LEXI_TEST_KEY", raising=False)
    async with ScriptedServer(record_then_refuse) as server:
        plain = CustomBackend("plain", server.url)
        named_but_unset = CustomBackend("unset", server.url, api_key_env="LEXI_TEST_KEY")
        await plain.list_models()
        await named_but_unset.list_models()
        assert all("authorization" not in r.headers for r in server.requests)
        monkeypatch.setenv("LEXI_TEST_KEY", SECRET)
        with pytest.raises(BackendError):
            await named_but_unset.list_models()  # now sent: read at each request
        assert server.requests[-1].headers["authorization"] == f"Bearer {SECRET}"
        await plain.list_models()
        assert "authorization" not in server.requests[-1].headers
        await plain.aclose()
        await named_but_unset.aclose()


async def test_the_key_never_shows_in_reprs_errors_or_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LEXI_TEST_KEY", SECRET)
    caplog.set_level(logging.DEBUG)
    async with ScriptedServer(record_then_refuse) as server:
        backend = CustomBackend("keyed", server.url, api_key_env="LEXI_TEST_KEY")
        with pytest.raises(BackendError) as caught:
            await backend.list_models()
        health = await backend.check_health()
        await backend.aclose()
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert "invalid key: Bearer ***" in str(caught.value)
    assert caught.value.status_code == 401
    for text in (
        str(caught.value),
        repr(caught.value),
        repr(backend),
        repr(backend.transport),
        health.message,
        caplog.text,
    ):
        assert SECRET not in text
    assert "LEXI_TEST_KEY" in repr(backend.transport)  # the variable's name is not a secret

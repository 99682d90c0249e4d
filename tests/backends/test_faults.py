"""Backends that misbehave: each fault is a clear BackendError and the right status change.

Every server here is a real socket on 127.0.0.1 scripted to fail in one way; the backend under
test is the real OpenAI-compatible client with short timeouts so the suite stays fast.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest

from lexitui.backends.errors import (
    BackendError,
    BackendProtocolError,
    BackendTimeout,
    BackendUnavailable,
)
from lexitui.backends.openai_compat import CustomBackend
from lexitui.backends.openai_instance import OpenAIModelInstance
from lexitui.backends.status import StatusTracker
from lexitui.domain.backends import GenerationRequest
from lexitui.domain.enums import BackendStatus, ModelInstanceStatus
from lexitui.events import BackendStatusChanged, Event, EventBus
from tests.backends.servers import (
    Request,
    ScriptedServer,
    chunk,
    end_chunked,
    hang,
    models_then,
    send,
    sse_finish,
    sse_token,
    start_chunked,
)

ASK = GenerationRequest(prompt="hi", max_tokens=8)


class Watched:
    """A backend whose pushes go through a real tracker onto a real bus, events collected."""

    def __init__(self, url: str, **kwargs: float) -> None:
        self.backend = CustomBackend("box", url, **kwargs)
        self.bus = EventBus()
        self.events: list[BackendStatusChanged] = []
        self.bus.backends.subscribe(self._collect)
        tracker = StatusTracker(self.bus)
        self.backend.health_pushes.subscribe(lambda h: tracker.observe(self.backend, h))
        self.tracker = tracker

    def _collect(self, event: Event) -> None:
        assert isinstance(event, BackendStatusChanged)
        self.events.append(event)

    @property
    def statuses(self) -> list[BackendStatus]:
        return [e.new for e in self.events]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_is_unavailable_with_reason_and_stopped_event() -> None:
    port = closed_port()
    watched = Watched(f"http://127.0.0.1:{port}/v1")
    with pytest.raises(BackendUnavailable) as caught:
        await watched.backend.list_models()
    reason = f"not found at 127.0.0.1:{port} (connection refused)"
    assert str(caught.value) == f"box (http://127.0.0.1:{port}/v1): {reason}"
    assert watched.statuses == [BackendStatus.STOPPED]
    assert watched.events[0].message == reason
    health = await watched.backend.check_health()
    assert (health.status, health.message, health.latency_ms) == (
        BackendStatus.STOPPED,
        reason,
        None,
    )
    assert not await watched.backend.is_available()
    await watched.backend.aclose()


async def test_http_500_on_a_stream_carries_the_server_reason() -> None:
    async def fail(request: Request, writer: asyncio.StreamWriter) -> None:
        await send(writer, 500, {"error": {"code": 500, "message": "CUDA out of memory"}})

    async with ScriptedServer(models_then(fail)) as server:
        watched = Watched(server.url)
        instance = await watched.backend.load_model("m")
        seen: list[ModelInstanceStatus] = []
        instance.status_changes.subscribe(seen.append)
        with pytest.raises(BackendError, match=r"HTTP 500: CUDA out of memory") as caught:
            await instance.generate(ASK)
        assert caught.value.status_code == 500
        assert seen == [
            ModelInstanceStatus.READY,
            ModelInstanceStatus.GENERATING,
            ModelInstanceStatus.ERROR,
        ]
        assert instance.last_error is not None and "CUDA out of memory" in instance.last_error
        # The server answered, so it is up: a 500 is a failed request, not a dead backend.
        assert watched.statuses == [BackendStatus.RUNNING]
        await watched.backend.aclose()


async def test_error_event_inside_a_stream_and_a_cut_stream() -> None:
    async def error_after_token(request: Request, writer: asyncio.StreamWriter) -> None:
        await start_chunked(writer, "text/event-stream")
        await chunk(writer, sse_token("Hel"))
        await chunk(writer, 'data: {"error": {"message": "slot crashed"}}\n\n')
        await end_chunked(writer)

    async def cut(request: Request, writer: asyncio.StreamWriter) -> None:
        await start_chunked(writer, "text/event-stream")
        await chunk(writer, sse_token("Hel"))
        writer.close()  # mid-body: the chunked encoding never finishes

    async with ScriptedServer(models_then(error_after_token)) as server:
        backend = CustomBackend("box", server.url)
        instance = await backend.load_model("m")
        texts: list[str] = []
        with pytest.raises(BackendError, match="slot crashed"):
            async for token in instance.generate_stream(ASK):
                texts.append(token.text)
        assert texts == ["Hel"]
        server.handler = models_then(cut)
        with pytest.raises(BackendProtocolError, match="connection closed mid-stream"):
            await instance.generate(ASK)
        assert instance.status is ModelInstanceStatus.ERROR
        await backend.aclose()


async def test_malformed_json_line_names_the_line() -> None:
    async def garbage(request: Request, writer: asyncio.StreamWriter) -> None:
        await start_chunked(writer, "text/event-stream")
        await chunk(writer, sse_token("ok"))
        await chunk(writer, "data: {not json\n\n")
        await end_chunked(writer)

    async with ScriptedServer(models_then(garbage)) as server:
        backend = CustomBackend("box", server.url)
        instance = await backend.load_model("m")
        with pytest.raises(BackendProtocolError) as caught:
            await instance.generate(ASK)
        assert "malformed stream line: '{not json'" in str(caught.value)
        assert server.url in str(caught.value)
        await backend.aclose()


async def test_a_backend_that_never_answers_is_a_timeout_in_bounded_time() -> None:
    async with ScriptedServer(hang) as server:
        watched = Watched(server.url, timeout=0.3, idle_timeout=0.3)
        started = time.monotonic()
        health = await watched.backend.check_health()
        assert health.status is BackendStatus.ERROR
        assert health.message == "no answer within 0.3 s"
        with pytest.raises(BackendTimeout, match=r"no answer within 0\.3 s"):
            await watched.backend.list_models()
        assert watched.statuses == [BackendStatus.ERROR]
        assert watched.events[0].message == "not answering (no answer within 0.3 s)"
        # No model list to load from: the instance is built directly, as load_model would.
        instance = OpenAIModelInstance(watched.backend, "m", None)
        with pytest.raises(BackendTimeout, match=r"no data for 0\.3 s"):
            await instance.generate(ASK)
        assert time.monotonic() - started < 3
        await watched.backend.aclose()


async def test_slow_trickle_completes_while_a_stall_times_out() -> None:
    pause = {"s": 0.1}

    async def trickle(request: Request, writer: asyncio.StreamWriter) -> None:
        await start_chunked(writer, "text/event-stream")
        for word in ("one ", "two ", "three "):
            await asyncio.sleep(pause["s"])
            await chunk(writer, sse_token(word))
        await chunk(writer, sse_finish())
        await end_chunked(writer)

    async with ScriptedServer(models_then(trickle)) as server:
        backend = CustomBackend("box", server.url, timeout=1.0, idle_timeout=0.5)
        instance = await backend.load_model("m")
        result = await instance.generate(ASK)
        assert result.text == "one two three "
        assert result.finish_reason == "stop"
        assert instance.status is ModelInstanceStatus.READY
        pause["s"] = 0.8  # longer than the idle timeout between two pieces
        started = time.monotonic()
        with pytest.raises(BackendTimeout, match=r"stream stalled: no data for 0.5 s"):
            await instance.generate(ASK)
        assert time.monotonic() - started < 2
        assert instance.status is ModelInstanceStatus.ERROR
        await backend.aclose()


async def test_control_characters_from_a_server_never_reach_the_terminal() -> None:
    async def hostile(request: Request, writer: asyncio.StreamWriter) -> None:
        await send(writer, 400, {"error": "bad\x1b[2J\x1b]0;pwned\x07\nmodel\u202e"})

    async with ScriptedServer(hostile) as server:
        backend = CustomBackend("box", server.url)
        with pytest.raises(BackendError) as caught:
            await backend.list_models()
        text = str(caught.value)
        assert not any(ord(c) < 0x20 or c in "\x7f\u202e" for c in text)
        assert "bad\\x1b[2J\\x1b]0;pwned\\x07\\nmodel\\u202e" in text
        await backend.aclose()


async def test_a_non_json_answer_is_a_protocol_error() -> None:
    async def html(request: Request, writer: asyncio.StreamWriter) -> None:
        await send(writer, 200, "<html>proxy login</html>", "text/html")

    async with ScriptedServer(html) as server:
        backend = CustomBackend("box", server.url)
        with pytest.raises(BackendProtocolError, match="did not answer JSON"):
            await backend.list_models()
        health = await backend.check_health()
        assert health.status is BackendStatus.ERROR
        await backend.aclose()


def test_error_bodies_of_every_common_shape_are_read() -> None:
    from lexitui.backends.wire import error_text

    assert error_text(json.dumps({"error": "model 'x' not found"})) == "model 'x' not found"
    assert error_text(json.dumps({"error": {"message": "too long", "code": 400}})) == "too long"
    assert error_text(json.dumps({"detail": [{"msg": "field required"}]})) == "field required"
    assert error_text(json.dumps({"object": "error", "message": "bad"})) == "bad"
    assert error_text("plain words") == "plain words"
    assert error_text("") == "(empty body)"

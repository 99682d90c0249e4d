"""The HTTP layer on raw sockets: limits, malformed input, keep-alive, HTTP/1.0 streaming."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from lexitui.gateway import Gateway
from tests.gateway.conftest import FakeRouter, start_gateway

pytestmark = pytest.mark.timeout(20)


async def _raw(gateway: Gateway, data: bytes) -> bytes:
    assert gateway.address is not None
    reader, writer = await asyncio.open_connection(*gateway.address)
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer


async def test_oversized_and_malformed_requests() -> None:
    async with start_gateway(FakeRouter(), max_body_bytes=1000) as gateway:
        big = await _raw(
            gateway,
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n"
            + b"x" * 5000,
        )
        garbage = await _raw(gateway, b"NOT HTTP AT ALL\r\n\r\n")
    assert big.startswith(b"HTTP/1.1 413 ")
    assert b"request_too_large" in big
    assert garbage.startswith(b"HTTP/1.1 400 ")


async def test_keep_alive_serves_several_requests_on_one_connection() -> None:
    async with start_gateway(FakeRouter()) as gateway:
        request = b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n"
        last = b"GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        answer = await _raw(gateway, request + request + last)
    assert answer.count(b"HTTP/1.1 200 ") == 3


async def test_a_real_client_sending_too_much_gets_the_413() -> None:
    async with (
        start_gateway(FakeRouter(), max_body_bytes=1000) as gateway,
        httpx.AsyncClient() as http,
    ):
        answer = await http.post(f"{gateway.base_url}/embeddings", content=b"x" * 300_000)
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "request_too_large"


async def test_http_1_0_streams_until_the_connection_closes() -> None:
    body = b'{"messages": [{"role": "user", "content": "hi"}], "stream": true}'
    async with start_gateway(FakeRouter()) as gateway:
        answer = await _raw(
            gateway,
            b"POST /v1/chat/completions HTTP/1.0\r\nContent-Length: %d\r\n\r\n%s"
            % (len(body), body),
        )
    head, _, stream = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"text/event-stream" in head
    assert b"chunked" not in head.lower()
    assert stream.endswith(b"data: [DONE]\n\n")
    assert stream.count(b"data: ") == 7  # role, four pieces, finish, [DONE]


async def test_a_request_without_the_key_is_refused_before_its_body_is_read() -> None:
    router = FakeRouter()
    async with start_gateway(router, api_key="sk-gateway-secret") as gateway:
        # The body it announces never comes: a refusal must not wait for (or buffer) it.
        answer = await _raw(
            gateway,
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer wrong\r\nContent-Length: 8000000\r\n\r\n",
        )
        assert answer.startswith(b"HTTP/1.1 401")
        assert b"sk-gateway-secret" not in answer
        health = await _raw(
            gateway, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        assert health.startswith(b"HTTP/1.1 200")
    assert router.requests == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        # past the JSON decoder's own recursion limit: it raises RecursionError
        (b"[" * 100_000 + b"]" * 100_000, "nesting_too_deep"),
        # within the decoder's limit, but deeper than anything downstream should recurse into
        (
            b'{"messages": [{"role": "user", "content": "hi"}], "metadata": {"a": '
            + b"[" * 200
            + b"]" * 200
            + b"}}",
            "nesting_too_deep",
        ),
        # valid JSON, but a lone surrogate is no Unicode text: it cannot be encoded later
        (b'{"messages": [{"role": "user", "content": "a \\ud800 b"}]}', "invalid_unicode"),
        (b'{"messages": [{"role": "user", "content": "hi", "\\udc00": 1}]}', "invalid_unicode"),
    ],
)
async def test_deep_nesting_and_lone_surrogates_are_a_400(body: bytes, code: str) -> None:
    router = FakeRouter()
    async with start_gateway(router) as gateway, httpx.AsyncClient() as http:
        for path in ("/chat/completions", "/embeddings"):
            answer = await http.post(f"{gateway.base_url}{path}", content=body)
            assert answer.status_code == 400, answer.text
            error = answer.json()["error"]
            assert error["type"] == "invalid_request_error" and error["code"] == code
            assert error["message"].startswith("The request body ")
    assert router.requests == [] and router.embed_requests == []

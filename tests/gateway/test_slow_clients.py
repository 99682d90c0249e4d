"""Clients that hold connections open on purpose: a trickled request head ends in 408, the
connection cap makes room by closing the oldest connection still waiting for its head (and
answers 503 only while every place is busy answering), and accept errors are logged once per
interval instead of as a flood of tracebacks."""

from __future__ import annotations

import asyncio
import errno
import logging

import httpx
import pytest

from lexitui.config import ConfigError
from lexitui.gateway import Gateway
from lexitui.gateway.connections import AcceptErrorLog
from lexitui.routing.gateway_settings import GatewaySettings
from lexitui.routing.settings import RoutingSettings
from tests.gateway.conftest import FakeRouter

pytestmark = pytest.mark.timeout(30)

HALF_OPEN = b"GET /v1/models HTTP/1.1\r\nHost: x\r\n"  # the blank line that ends it never comes


async def _gateway(router: FakeRouter, *, cap: int = 256, head_timeout: float = 10.0) -> Gateway:
    settings = GatewaySettings(host="127.0.0.1", port=0, max_connections=cap)
    gateway = Gateway(router, settings, head_timeout=head_timeout)
    await gateway.start()
    return gateway


async def _half_open(gateway: Gateway) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    assert gateway.address is not None
    reader, writer = await asyncio.open_connection(*gateway.address)
    writer.write(HALF_OPEN)
    await writer.drain()
    return reader, writer


async def test_a_head_sent_a_line_at_a_time_ends_in_408() -> None:
    gateway = await _gateway(FakeRouter(), head_timeout=1.0)
    try:
        reader, writer = await _half_open(gateway)
        answer = b""

        async def trickle() -> None:
            # A line well inside any per-read timeout, forever: only a total deadline ends it.
            for i in range(100):
                await asyncio.sleep(0.2)
                writer.write(b"X-Slow-%d: 1\r\n" % i)
                await writer.drain()

        sender = asyncio.create_task(trickle())
        try:
            answer = await asyncio.wait_for(reader.read(), 10)
        finally:
            sender.cancel()
            writer.close()
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert b"request_timeout" in answer
    finally:
        await gateway.stop()


async def test_at_the_cap_the_oldest_half_open_connection_makes_room() -> None:
    gateway = await _gateway(FakeRouter(), cap=4)
    try:
        slow = [await _half_open(gateway) for _ in range(4)]
        await asyncio.sleep(0.2)  # all four are accepted and waiting for their heads
        async with httpx.AsyncClient(timeout=5) as http:
            answer = await http.get(f"{gateway.base_url}/models")
        assert answer.status_code == 200
        oldest_reader, _ = slow[0]
        assert await asyncio.wait_for(oldest_reader.read(), 5) == b""  # closed to make room
        for _, writer in slow:
            writer.close()
    finally:
        await gateway.stop()


async def test_with_every_place_busy_answering_a_newcomer_gets_503() -> None:
    router = FakeRouter(hang=True)  # each stream sends its first piece, then waits
    gateway = await _gateway(router, cap=2)
    body = b'{"messages": [{"role": "user", "content": "hi"}], "stream": true}'
    request = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )
    busy = []
    try:
        assert gateway.address is not None
        for _ in range(2):
            reader, writer = await asyncio.open_connection(*gateway.address)
            writer.write(request)
            await writer.drain()
            assert (await asyncio.wait_for(reader.readline(), 5)).startswith(b"HTTP/1.1 200 ")
            busy.append(writer)
        async with httpx.AsyncClient(timeout=5) as http:
            answer = await http.get(f"{gateway.base_url}/models")
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "1"
        assert answer.json()["error"]["code"] == "too_many_connections"
    finally:
        for writer in busy:
            writer.close()
        await gateway.stop()


def test_accept_errors_are_logged_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.new_event_loop()
    passed_on: list[str] = []
    loop.set_exception_handler(lambda _loop, context: passed_on.append(context["message"]))
    errors = AcceptErrorLog(interval_s=3600)
    errors.install(loop)
    try:
        with caplog.at_level(logging.WARNING):
            for _ in range(1000):
                loop.call_exception_handler(
                    {
                        "message": "socket.accept() out of system resource",
                        "exception": OSError(errno.EMFILE, "Too many open files"),
                    }
                )
            loop.call_exception_handler({"message": "something else"})
        warnings = [r for r in caplog.records if "cannot accept connections" in r.getMessage()]
        assert len(warnings) == 1 and warnings[0].exc_info is None
        assert "Too many open files" in warnings[0].getMessage()
        assert passed_on == ["something else"]  # other reports reach the handler as before
        assert errors.folded == 999  # counted, to be reported with the next line
    finally:
        errors.uninstall()
        loop.close()


@pytest.mark.parametrize("value", [0, -3, 1.5, "many", True])
def test_a_bad_connection_cap_is_one_config_error(value: object) -> None:
    with pytest.raises(ConfigError, match=r"\[gateway\] max_connections"):
        RoutingSettings.from_config({"gateway": {"max_connections": value}})

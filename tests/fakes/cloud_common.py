"""What the fake cloud APIs share: a restartable server, request counting, fault switches and
a deterministic "model".

The model echoes the last user message: ``"Cloud says: <its words>"``, one word per streamed
piece. Token counts are word counts (prompt: every message's words; completion: the answer's),
so a test can compute the cost it expects.

Fault switches a test sets on the fake (checked in this order after authentication):
``quota_exceeded``, ``rate_limit`` (answer the next N requests 429 with ``retry-after``),
``overloaded``, then for a normal answer ``stall_s`` (send the headers, then hang),
``break_mid_stream`` (after ``break_after_words`` words send an error event, or cut the
connection when ``cut_connection``). ``redirect_to`` answers every request 307 to that URL.
``await fake.set_down(True)`` stops listening (connection refused) on the same port until
``set_down(False)``. ``requests`` records every request that reached the fake.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

from tests.fakes.ollama_http import (
    MAX_HEADER_BYTES,
    ClientGone,
    Handler,
    Request,
    Response,
    ThreadedServer,
    error_response,
    read_request,
    write_response,
)

TEST_KEY = "sk-test-Zq81fake0key0never0real42"


@dataclass(frozen=True)
class Seen:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or None


class PortServer(ThreadedServer):
    """ThreadedServer that can bind a given port, so a fake comes back up where it was."""

    def __init__(self, handler: Handler, port: int = 0) -> None:
        super().__init__(handler)
        self._wanted_port = port

    async def _main(self, ready: concurrent.futures.Future[int]) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(
            self._serve, "127.0.0.1", self._wanted_port, limit=MAX_HEADER_BYTES, reuse_address=True
        )
        ready.set_result(int(server.sockets[0].getsockname()[1]))
        await self._stopping.wait()
        server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await server.wait_closed()

    async def _serve_requests(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while True:
            request = await read_request(reader)
            if request is None:
                return
            try:
                response = await self._handler(request)
            except Exception as exc:  # a bug in the fake reads as a 500, not a hang-up
                response = error_response(500, f"fake cloud: {exc!r}")
            await request.discard_body()
            await write_any(writer, reader, request.method, response)


async def write_any(
    writer: asyncio.StreamWriter, reader: asyncio.StreamReader, method: str, response: Response
) -> None:
    """write_response, plus statuses http.HTTPStatus lacks (Anthropic's 529)."""
    if _known(response.status) or response.stream is not None:
        await write_response(writer, reader, method, response)
        return
    head = [f"HTTP/1.1 {response.status} Overloaded", f"Content-Length: {len(response.body)}"]
    if response.content_type:
        head.append(f"Content-Type: {response.content_type}")
    head += [f"{k}: {v}" for k, v in response.headers.items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body)
    await writer.drain()


def _known(status: int) -> bool:
    try:
        HTTPStatus(status)
    except ValueError:
        return False
    return True


class FakeCloud:
    """Base of the fakes; subclasses implement ``route`` and the API's error bodies."""

    def __init__(self, api_key: str | None = TEST_KEY) -> None:
        self.api_key = api_key
        self.rate_limit = 0
        self.retry_after = "2"
        self.quota_exceeded = False
        self.overloaded = False
        self.stall_s = 0.0
        self.break_mid_stream = False
        self.break_after_words = 2
        self.cut_connection = False
        self.redirect_to: str | None = None
        self.echo_key = False  # a misbehaving server that quotes the key it got back
        self.requests: list[Seen] = []
        self.port = 0
        self._server: PortServer | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        self._server = PortServer(self._handle, self.port)
        self.port = await self._server.start()

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()
            self._server = None

    async def set_down(self, down: bool) -> None:
        if down:
            await self.stop()
        elif self._server is None:
            await self.start()

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        seen = Seen(request.method, request.path, request.query, request.headers, body)
        self.requests.append(seen)
        if self.redirect_to is not None:
            query = "&".join(f"{k}={v}" for k, v in request.query.items())
            target = self.redirect_to + request.path + (f"?{query}" if query else "")
            return Response(307, b"", None, headers={"Location": target})
        return await self.route(seen)

    async def route(self, seen: Seen) -> Response:
        raise NotImplementedError

    def take_rate_limit(self) -> bool:
        if self.rate_limit > 0:
            self.rate_limit -= 1
            return True
        return False

    def shown_key(self, given: str) -> str:
        """How the fake quotes a wrong key: masked like the real APIs, or whole if echo_key."""
        return given if self.echo_key else f"{given[:5]}***{given[-4:]}"


def words_of(messages: list[dict[str, Any]], system: str = "") -> tuple[list[str], int]:
    """The answer's words and the prompt's token count for a conversation."""
    prompt_tokens = len(system.split()) + sum(
        len(str(m.get("content", "")).split()) for m in messages
    )
    last: dict[str, Any] = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    return ["Cloud", "says:", *str(last.get("content", "")).split()], prompt_tokens


def pieces(words: list[str]) -> list[str]:
    """Streamed pieces that join back into ``" ".join(words)``."""
    return [w if i == 0 else f" {w}" for i, w in enumerate(words)]


def stop_cut(words: list[str], max_tokens: object, stops: object) -> tuple[list[str], str]:
    """Apply ``max_tokens`` and stop sequences: the words kept and why the answer ended."""
    if isinstance(stops, str):
        stops = [stops]
    for i, word in enumerate(words):
        if isinstance(stops, list) and any(s and s in word for s in stops):
            return words[:i], "stop"
    if isinstance(max_tokens, int) and len(words) > max_tokens:
        return words[:max_tokens], "length"
    return words, "end"


async def after_stall(stall_s: float, parts: list[bytes]) -> AsyncIterator[bytes]:
    """A body whose headers go out at once and whose bytes come ``stall_s`` later."""
    await asyncio.sleep(stall_s)
    for part in parts:
        yield part


def cut() -> ClientGone:
    """Raised inside a streamed body: the server drops the connection mid-answer."""
    return ClientGone("fake cloud cut the connection")


def vector(text: str, dims: int = 8) -> list[float]:
    """A deterministic unit vector for ``text``."""
    raw = [float((sum(ord(c) for c in text) * (i + 3)) % 97 + 1) for i in range(dims)]
    norm = sum(x * x for x in raw) ** 0.5
    return [x / norm for x in raw]

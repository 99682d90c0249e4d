"""A small HTTP/1.1 server: ``asyncio.start_server`` for sockets, ``h11`` for the protocol.

Why not a framework: the gateway needs four endpoints, keep-alive, bounded request bodies and
streamed answers, and one behaviour frameworks make awkward: while a request is being answered
the connection is watched, and a client that hangs up cancels the answer, so a closed browser
tab or a killed script stops the model generating (the router's stream is closed, which stops
the engine or the cloud call).

Requests are read whole (``Content-Length`` or chunked, at most ``max_body`` bytes, else 413);
a malformed request is a 400 and the connection is closed. Answers are either whole
(``HttpResponse``, sent with ``Content-Length``) or streamed (``StreamingResponse``: chunked for
HTTP/1.1 clients, close-delimited for HTTP/1.0, as h11 chooses).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import h11

from lexitui.gateway.errors import ApiError, from_exception

log = logging.getLogger(__name__)

MAX_BODY = 8 * 1024 * 1024  # far above any chat request; a bound so one client cannot eat RAM
MAX_HEAD = 64 * 1024  # request line plus headers
READ_SIZE = 64 * 1024
IDLE_TIMEOUT_S = 75.0  # a keep-alive connection with no new request is closed after this
READ_TIMEOUT_S = 30.0  # a request that stalls half-sent is dropped after this
LINGER_S = 2.0  # how long unread body bytes are drained before closing (see _linger)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes = b""


@dataclass
class HttpResponse:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(
        cls, status: int, payload: Any, headers: list[tuple[str, str]] | None = None
    ) -> HttpResponse:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, body, [("content-type", "application/json"), *(headers or [])])

    @classmethod
    def error(cls, error: ApiError) -> HttpResponse:
        return cls.json(error.status, error.body(), error.headers)


@dataclass
class StreamingResponse:
    """An answer whose body is produced while it is sent; the server closes ``body`` (an async
    generator) when the client goes away, so its ``finally`` blocks run."""

    status: int
    body: AsyncIterator[bytes]
    headers: list[tuple[str, str]] = field(default_factory=list)


Handler = Callable[[HttpRequest], Awaitable[HttpResponse | StreamingResponse]]
# Looks at a request's path and headers before its body is read: an error refuses it there.
Admit = Callable[[str, dict[str, str]], ApiError | None]


class _TooLarge(Exception):
    pass


class _PeerGone(Exception):
    pass


class HttpServer:
    def __init__(
        self, handler: Handler, *, max_body: int = MAX_BODY, admit: Admit | None = None
    ) -> None:
        self._handler = handler
        self._admit = admit
        self.max_body = max_body
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[Any]] = set()

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._connection, host, port)
        address = self._server.sockets[0].getsockname()
        return str(address[0]), int(address[1])

    async def serve_forever(self) -> None:
        if self._server is None:
            raise RuntimeError("start() the server first")
        await self._server.serve_forever()

    async def stop(self) -> None:
        """Stop listening and end open connections (their answers are cancelled, which closes
        the router streams they were reading)."""
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._server.wait_closed()
        self._server = None

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        try:
            while await self._cycle(conn, reader, writer):
                conn.start_next_cycle()
        except (OSError, TimeoutError, _PeerGone, h11.LocalProtocolError):
            pass  # the client went away or broke the protocol mid-answer: nothing to tell it
        except asyncio.CancelledError:
            # stop() ended this connection; ending quietly keeps asyncio's stream callback
            # from reporting the cancellation as an unhandled error at shutdown.
            pass
        finally:
            if task is not None:
                self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _cycle(
        self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Read one request and answer it; True when the connection can take another."""
        try:
            head = await _next_event(conn, reader, IDLE_TIMEOUT_S)
            if not isinstance(head, h11.Request):
                return False  # closed (or paused) between requests
            path, _, query = head.target.decode("latin-1").partition("?")
            headers = _headers(head)
            # A client without the key never gets its body buffered (up to max_body each).
            refused = self._admit(path, headers) if self._admit else None
            if refused is not None:
                await _send_error(conn, writer, refused)
                await _linger(reader, writer)
                return False
            body = await self._read_body(conn, reader, writer, head)
        except h11.RemoteProtocolError as exc:
            status = exc.error_status_hint if 400 <= exc.error_status_hint < 500 else 400
            await _send_error(conn, writer, ApiError(status, f"Malformed HTTP request: {exc}"))
            return False
        except _TooLarge:
            message = f"The request body is larger than {self.max_body} bytes."
            await _send_error(conn, writer, ApiError(413, message, code="request_too_large"))
            await _linger(reader, writer)
            return False
        request = HttpRequest(head.method.decode("ascii"), path, query, headers, body)
        if await self._respond_watching(conn, reader, writer, request):
            return False
        return conn.our_state is h11.DONE and conn.their_state is h11.DONE

    async def _read_body(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        head: h11.Request,
    ) -> bytes:
        for name, value in head.headers:
            if name == b"content-length" and int(value) > self.max_body:
                raise _TooLarge  # refused before a byte of the body is read
        if conn.client_is_waiting_for_100_continue:
            await _send(conn, writer, h11.InformationalResponse(status_code=100, headers=[]))
        parts: list[bytes] = []
        size = 0
        while True:
            event = await _next_event(conn, reader, READ_TIMEOUT_S)
            if isinstance(event, h11.Data):
                size += len(event.data)
                if size > self.max_body:
                    raise _TooLarge  # chunked bodies have no length up front
                parts.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return b"".join(parts)
            else:
                raise _PeerGone

    async def _respond_watching(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: HttpRequest,
    ) -> bool:
        """Answer while watching the socket; True when the connection must be closed."""
        respond = asyncio.create_task(self._respond(conn, writer, request))
        watch = asyncio.create_task(self._watch(conn, reader))
        try:
            done, _ = await asyncio.wait({respond, watch}, return_when=asyncio.FIRST_COMPLETED)
            if respond not in done and watch.result():
                log.debug("gateway: client closed during %s %s", request.method, request.path)
                return True  # the finally cancels the answer, which closes its stream
            return await respond
        finally:
            respond.cancel()
            watch.cancel()
            # Wait for both: the next request must not be read while the watcher still reads.
            await asyncio.gather(respond, watch, return_exceptions=True)

    async def _watch(self, conn: h11.Connection, reader: asyncio.StreamReader) -> bool:
        """True when the client hangs up; bytes it sends meanwhile (a pipelined request) are
        kept for the next cycle, up to one request's worth, then reading pauses."""
        buffered = 0
        while buffered <= self.max_body + MAX_HEAD:
            data = await reader.read(READ_SIZE)
            if not data:
                return True
            buffered += len(data)
            conn.receive_data(data)
        return False

    async def _respond(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, request: HttpRequest
    ) -> bool:
        try:
            response = await self._handler(request)
        except Exception as exc:  # a handler bug still gets an answer; details go to the log
            response = HttpResponse.error(from_exception(exc))
        log.debug("gateway: %s %s -> %d", request.method, request.path, response.status)
        head_only = request.method == "HEAD"
        if isinstance(response, HttpResponse):
            headers = [*_common(response.headers), ("content-length", str(len(response.body)))]
            await _send(conn, writer, h11.Response(status_code=response.status, headers=headers))
            if response.body and not head_only:
                await _send(conn, writer, h11.Data(data=response.body))
            await _send(conn, writer, h11.EndOfMessage())
            return False
        body = response.body
        try:
            headers = _common(response.headers)
            await _send(conn, writer, h11.Response(status_code=response.status, headers=headers))
            async for piece in body:
                if piece and not head_only:
                    await _send(conn, writer, h11.Data(data=piece))
            await _send(conn, writer, h11.EndOfMessage())
        finally:
            close = getattr(body, "aclose", None)
            if close is not None:
                await close()
        return conn.our_state is h11.MUST_CLOSE


def _common(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("server", "lexitui"), *headers]


async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader, timeout: float) -> Any:
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        data = await asyncio.wait_for(reader.read(READ_SIZE), timeout)
        conn.receive_data(data)  # b"" tells h11 the peer closed


async def _send(conn: h11.Connection, writer: asyncio.StreamWriter, event: Any) -> None:
    data = conn.send(event)
    if data:
        writer.write(data)
        await writer.drain()


async def _send_error(conn: h11.Connection, writer: asyncio.StreamWriter, error: ApiError) -> None:
    if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return
    response = HttpResponse.error(error)
    headers = [
        *_common(response.headers),
        ("content-length", str(len(response.body))),
        ("connection", "close"),
    ]
    with contextlib.suppress(OSError, h11.LocalProtocolError):
        await _send(conn, writer, h11.Response(status_code=error.status, headers=headers))
        await _send(conn, writer, h11.Data(data=response.body))
        await _send(conn, writer, h11.EndOfMessage())


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read and drop what the client is still sending before closing: closing a socket with
    unread data makes the kernel send a reset, and the client may then lose the 413 answer.
    Our side is half-closed first, so a client reading the answer sees its end at once."""
    with contextlib.suppress(OSError, RuntimeError):
        if writer.can_write_eof():
            writer.write_eof()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LINGER_S
    with contextlib.suppress(OSError, TimeoutError):
        while (left := deadline - loop.time()) > 0:
            if not await asyncio.wait_for(reader.read(READ_SIZE), left):
                return


def _headers(head: h11.Request) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in head.headers:
        key = name.decode("latin-1")
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers

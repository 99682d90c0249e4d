"""A small HTTP/1.1 server: ``asyncio.start_server`` for sockets, ``h11`` for the protocol.

Why not a framework: the gateway needs four endpoints, keep-alive, bounded request bodies and
streamed answers, and one behaviour frameworks make awkward: while a request is being answered
the connection is watched, and a client that hangs up cancels the answer, so a closed browser
tab or a killed script stops the model generating (the router's stream is closed, which stops
the engine or the cloud call).

Requests are read whole (``Content-Length`` or chunked, at most ``max_body`` bytes, else 413);
a malformed request is a 400 and the connection is closed. The request head has a total
deadline (``head_timeout``: 408 when a client trickles it) and the body another, and the
number of connections is capped (see ``connections.py``), so slow clients cannot hold the
server. Answers are either whole (``HttpResponse``, sent with ``Content-Length``) or streamed
(``StreamingResponse``: chunked for HTTP/1.1 clients, close-delimited for HTTP/1.0, as h11
chooses).
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

from lexitui.gateway.connections import (
    MAX_CONNECTIONS,
    AcceptErrorLog,
    ConnectionTable,
    connection_cap,
)
from lexitui.gateway.errors import ApiError, from_exception
from lexitui.gateway.http_read import (
    HEAD_TIMEOUT_S,
    LINGER_S,
    READ_SIZE,
    SlowHead,
    linger,
    next_event,
    read_head,
)

log = logging.getLogger(__name__)

MAX_BODY = 8 * 1024 * 1024  # far above any chat request; a bound so one client cannot eat RAM
MAX_HEAD = 64 * 1024  # request line plus headers
READ_TIMEOUT_S = 30.0  # a request that stalls half-sent is dropped after this
BODY_TIMEOUT_S = 120.0  # and its whole body must arrive within this


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
        self,
        handler: Handler,
        *,
        max_body: int = MAX_BODY,
        admit: Admit | None = None,
        max_connections: int = MAX_CONNECTIONS,
        head_timeout: float = HEAD_TIMEOUT_S,
    ) -> None:
        self._handler = handler
        self._admit = admit
        self.max_body = max_body
        self.head_timeout = head_timeout
        self._server: asyncio.Server | None = None
        self._connections = ConnectionTable(connection_cap(max_connections))
        self._accept_errors = AcceptErrorLog()

    @property
    def max_connections(self) -> int:
        """The cap in force (the configured one, or lower where the open-file limit says)."""
        return self._connections.cap

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self._accept_errors.install(asyncio.get_running_loop())
        try:
            self._server = await asyncio.start_server(self._connection, host, port)
        except BaseException:
            self._accept_errors.uninstall()  # a port in use: the loop keeps its own handler
            raise
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
        tasks = self._connections.tasks()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._server.wait_closed()
        self._server = None
        self._accept_errors.uninstall()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # asyncio runs each connection's callback in a task
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        if not self._connections.admit(task):
            await _refuse_full(conn, writer)
            return
        try:
            first = True
            while await self._cycle(conn, reader, writer, task, first=first):
                conn.start_next_cycle()
                first = False
        except (OSError, TimeoutError, _PeerGone, h11.LocalProtocolError):
            pass  # the client went away or broke the protocol mid-answer: nothing to tell it
        except asyncio.CancelledError:
            # stop() ended this connection; ending quietly keeps asyncio's stream callback
            # from reporting the cancellation as an unhandled error at shutdown.
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _cycle(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        task: asyncio.Task[Any],
        *,
        first: bool,
    ) -> bool:
        """Read one request and answer it; True when the connection can take another."""
        # Until a whole request is read, this connection may be closed to make room.
        self._connections.set_busy(task, False)
        try:
            head = await read_head(conn, reader, self.head_timeout, first=first)
            if not isinstance(head, h11.Request):
                return False  # closed (or paused) between requests
            path, _, query = head.target.decode("latin-1").partition("?")
            headers = _headers(head)
            # A client without the key never gets its body buffered (up to max_body each).
            refused = self._admit(path, headers) if self._admit else None
            if refused is not None:
                await _send_error(conn, writer, refused)
                await linger(reader, writer)
                return False
            body = await self._read_body(conn, reader, writer, head)
        except h11.RemoteProtocolError as exc:
            status = exc.error_status_hint if 400 <= exc.error_status_hint < 500 else 400
            await _send_error(conn, writer, ApiError(status, f"Malformed HTTP request: {exc}"))
            return False
        except SlowHead:
            message = f"The request head did not arrive within {self.head_timeout:.0f} s."
            await _send_error(conn, writer, ApiError(408, message, code="request_timeout"))
            return False
        except _TooLarge:
            message = f"The request body is larger than {self.max_body} bytes."
            await _send_error(conn, writer, ApiError(413, message, code="request_too_large"))
            await linger(reader, writer)
            return False
        request = HttpRequest(head.method.decode("ascii"), path, query, headers, body)
        self._connections.set_busy(task, True)  # answering: never closed to make room
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
        deadline = asyncio.get_running_loop().time() + BODY_TIMEOUT_S
        while True:
            left = deadline - asyncio.get_running_loop().time()
            event = await next_event(conn, reader, max(0.0, min(READ_TIMEOUT_S, left)))
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
            events: list[Any] = [h11.Response(status_code=response.status, headers=headers)]
            if response.body and not head_only:
                events.append(h11.Data(data=response.body))
            # One write: head and body leave in one packet, the client wakes once.
            await _send(conn, writer, *events, h11.EndOfMessage())
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


async def _send(conn: h11.Connection, writer: asyncio.StreamWriter, *events: Any) -> None:
    data = b"".join(conn.send(event) or b"" for event in events)
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


async def _refuse_full(conn: h11.Connection, writer: asyncio.StreamWriter) -> None:
    """Answer 503 at once to a connection that found every place taken, then close."""
    error = ApiError(
        503,
        "The server is at its connection limit; try again shortly.",
        "server_error",
        code="too_many_connections",
        headers=[("retry-after", "1")],
    )
    with contextlib.suppress(OSError, RuntimeError, TimeoutError):
        await asyncio.wait_for(_send_error(conn, writer, error), LINGER_S)
        if writer.can_write_eof():
            writer.write_eof()  # the client sees the answer end before the close
    writer.close()


def _headers(head: h11.Request) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in head.headers:
        key = name.decode("latin-1")
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers

"""A small HTTP/1.1 server for the fake Ollama, on its own thread and event loop.

Why not the test's loop: the app under test may call the fake from a synchronous client, from
another loop (Textual's) or from a worker thread. A server that owns its loop answers all of them
and never deadlocks against a blocking caller. Why hand-written: we need chunked NDJSON streaming
that httpx reads line by line, keep-alive, chunked request bodies (streamed blob uploads), and
prompt notice of a client that hung up mid-stream, with nothing beyond the standard library.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

JSON_TYPE = "application/json; charset=utf-8"
NDJSON_TYPE = "application/x-ndjson"
MAX_HEADER_BYTES = 64 * 1024


class ClientGone(ConnectionError):
    """The client closed its end while we were still streaming to it."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # keys lower-cased
    reader: asyncio.StreamReader
    _remaining: int | None = 0  # bytes of a Content-Length body left; None: chunked body
    _chunked_done: bool = False

    async def iter_body(self, size: int = 256 * 1024) -> AsyncIterator[bytes]:
        """Yield the body in pieces, so a large blob upload never sits whole in memory."""
        if self._remaining is None:
            while not self._chunked_done:
                line = await self.reader.readline()
                length = int(line.split(b";")[0].strip() or b"0", 16)
                if length == 0:
                    while (await self.reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass  # trailers: read and drop
                    self._chunked_done = True
                    return
                data = await self.reader.readexactly(length)
                await self.reader.readline()
                yield data
            return
        while self._remaining:
            data = await self.reader.read(min(size, self._remaining))
            if not data:
                raise asyncio.IncompleteReadError(b"", self._remaining)
            self._remaining -= len(data)
            yield data

    async def body(self) -> bytes:
        return b"".join([piece async for piece in self.iter_body()])

    async def discard_body(self) -> None:
        async for _ in self.iter_body():
            pass


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = JSON_TYPE
    stream: AsyncIterator[bytes] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: Any) -> Response:
    return Response(status, json.dumps(payload, separators=(",", ":")).encode())


def error_response(status: int, message: str) -> Response:
    """Ollama's error body: ``{"error": "..."}`` as application/json."""
    return json_response(status, {"error": message})


def ndjson_response(lines: AsyncGenerator[dict[str, Any], None]) -> Response:
    """One JSON object per line, sent as each is ready (chunked), as ``application/x-ndjson``."""

    async def encode() -> AsyncGenerator[bytes, None]:
        async with aclosing(lines):  # closing us closes the producer (an engine stream, a pull)
            async for obj in lines:
                yield json.dumps(obj, separators=(",", ":")).encode() + b"\n"

    return Response(200, content_type=NDJSON_TYPE, stream=encode())


Handler = Callable[[Request], Awaitable[Response]]


async def read_head(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]] | None:
    """Method, target and lower-cased headers of one request; ``None`` at a clean end."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        raise ValueError("request head too large") from None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return method.upper(), target, headers


def set_body_length(request: Request) -> None:
    """Chunked bodies are read until their last chunk; others by Content-Length."""
    if "chunked" in request.headers.get("transfer-encoding", "").lower():
        request._remaining = None
    else:
        request._remaining = int(request.headers.get("content-length", "0") or "0")


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """Parse one request head; ``None`` at a clean end of the connection."""
    head = await read_head(reader)
    if head is None:
        return None
    method, target, headers = head
    url = urlsplit(target)
    request = Request(method, unquote(url.path), dict(parse_qsl(url.query)), headers, reader)
    set_body_length(request)
    return request


async def write_response(
    writer: asyncio.StreamWriter, reader: asyncio.StreamReader, method: str, response: Response
) -> None:
    reason = HTTPStatus(response.status).phrase
    head = [f"HTTP/1.1 {response.status} {reason}"]
    headers = dict(response.headers)
    if response.content_type and (response.body or response.stream):
        headers["Content-Type"] = response.content_type
    if response.stream is not None:
        headers["Transfer-Encoding"] = "chunked"
    else:
        headers["Content-Length"] = str(len(response.body))
    head += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    if method == "HEAD":
        await writer.drain()
        return
    if response.stream is None:
        writer.write(response.body)
        await writer.drain()
        return
    try:
        async for piece in response.stream:
            # A peer that hung up shows as EOF on our reader; stop at once so the producer
            # (an engine request, a pull) is cancelled rather than running on unheard.
            if reader.at_eof():
                raise ClientGone("client closed the connection")
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
    finally:
        closer = getattr(response.stream, "aclose", None)
        if closer is not None:
            await closer()


class ThreadedServer:
    """Serves ``handler`` on 127.0.0.1:0 from a daemon thread with its own event loop."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self) -> int:
        ready: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        self.port = await asyncio.wrap_future(ready)
        return self.port

    def _run(self, ready: concurrent.futures.Future[int]) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._main(ready))
        except BaseException as exc:  # report start failures to the caller, not to stderr
            if not ready.done():
                ready.set_exception(exc)
        finally:
            self._loop.close()

    async def _main(self, ready: concurrent.futures.Future[int]) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0, limit=MAX_HEADER_BYTES)
        ready.set_result(int(server.sockets[0].getsockname()[1]))
        await self._stopping.wait()
        server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await server.wait_closed()

    async def stop(self) -> None:
        if self._loop is None or self._stopping is None or self._thread is None:
            return
        with contextlib.suppress(RuntimeError):  # loop already gone
            self._loop.call_soon_threadsafe(self._stopping.set)
        await asyncio.to_thread(self._thread.join, 10)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve_requests(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve_requests(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while True:
            try:
                request = await read_request(reader)
            except (ValueError, UnicodeError):
                await write_response(writer, reader, "GET", error_response(400, "bad request"))
                return
            if request is None:
                return
            if request.headers.get("expect", "").lower() == "100-continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            try:
                response = await self._handler(request)
            except Exception as exc:  # a bug in the fake must read as a 500, not a hang-up
                response = error_response(500, f"fake ollama: {exc!r}")
            await request.discard_body()  # so the next request on this connection parses
            await write_response(writer, reader, request.method, response)
            if request.headers.get("connection", "").lower() == "close":
                return

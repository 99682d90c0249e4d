"""The fake Hub's HTTP layer: the fake Ollama's threaded server, with two things the Hub needs.

Why not ``ThreadedServer`` as it is: the Hub's API repeats query parameters (``filter=gguf&
filter=llama``, ``expand=a&expand=b``) and quotes a revision such as ``refs/pr/1`` into one path
segment, so a request keeps every value of a parameter and its raw (still quoted) path here; and
file bodies go out with a real ``Content-Length`` (downloads check it) rather than chunked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakes.ollama_http import (
    Request,
    Response,
    ThreadedServer,
    error_response,
    read_head,
    set_body_length,
    write_response,
)

FILE_CHUNK = 256 * 1024


@dataclass
class HubRequest(Request):
    params: dict[str, list[str]] = field(default_factory=dict)
    raw_path: str = ""

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.params.get(name)
        return values[-1] if values else default

    def values(self, *names: str) -> list[str]:
        """Every value of the parameter under any of its spellings (``expand``/``expand[]``)."""
        return [v for name in names for v in self.params.get(name, [])]

    def flag(self, name: str) -> bool:
        return (self.param(name) or "").lower() in ("1", "true", "yes")

    @property
    def segments(self) -> list[str]:
        """Path segments, each unquoted on its own (``refs%2Fpr%2F1`` stays one segment)."""
        return [unquote(s) for s in self.raw_path.split("/")[1:]]

    @property
    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[7:].strip() if value.lower().startswith("bearer ") else None


async def read_hub_request(reader: asyncio.StreamReader) -> HubRequest | None:
    head = await read_head(reader)
    if head is None:
        return None
    method, target, headers = head
    url = urlsplit(target)
    params = parse_qs(url.query, keep_blank_values=True)
    request = HubRequest(
        method,
        unquote(url.path),
        {k: v[-1] for k, v in params.items()},
        headers,
        reader,
        params=params,
        raw_path=url.path,
    )
    set_body_length(request)
    return request


async def write_hub_response(
    writer: asyncio.StreamWriter, reader: asyncio.StreamReader, method: str, response: Response
) -> None:
    """A response that names its own Content-Length goes out as is; others as the Ollama fake."""
    if "Content-Length" not in response.headers:
        await write_response(writer, reader, method, response)
        return
    head = [f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}"]
    headers = dict(response.headers)
    if response.content_type:
        headers["Content-Type"] = response.content_type
    head += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    try:
        if method != "HEAD":
            writer.write(response.body)
            if response.stream is not None:
                async for piece in response.stream:
                    writer.write(piece)
                    await writer.drain()
        await writer.drain()
    finally:
        closer = getattr(response.stream, "aclose", None)
        if closer is not None:
            await closer()


async def file_stream(source: bytes | str, start: int, end: int) -> AsyncIterator[bytes]:
    """Bytes ``start..end`` (inclusive) of an in-memory blob or a file on disk, in chunks."""
    if isinstance(source, bytes):
        for offset in range(start, end + 1, FILE_CHUNK):
            yield source[offset : min(offset + FILE_CHUNK, end + 1)]
        return
    with open(source, "rb") as handle:
        handle.seek(start)
        left = end - start + 1
        while left > 0:
            piece = handle.read(min(FILE_CHUNK, left))
            if not piece:
                return
            left -= len(piece)
            yield piece


class HubHttpServer(ThreadedServer):
    """``ThreadedServer`` reading ``HubRequest``s and writing fixed-length bodies."""

    async def _serve_requests(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while True:
            try:
                request = await read_hub_request(reader)
            except (ValueError, UnicodeError):
                await write_response(writer, reader, "GET", error_response(400, "bad request"))
                return
            if request is None:
                return
            try:
                response = await self._handler(request)
            except Exception as exc:  # a bug in the fake must read as a 500, not a hang-up
                response = error_response(500, f"fake hub: {exc!r}")
            await request.discard_body()
            await write_hub_response(writer, reader, request.method, response)
            if request.headers.get("connection", "").lower() == "close":
                return

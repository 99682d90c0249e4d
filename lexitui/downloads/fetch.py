"""One GET for a byte range (or the whole file), checked before a single byte is used.

The checks are the download checklist's: a 200 to a Range request is the whole file and must not
be written at the range's offset (D1); a 206 must cover exactly the bytes asked for (D2); a 416
says the file is shorter than the range's start (D4, for a complete partial); ``If-Range`` makes a
changed file come back as a 200 rather than as a splice (D3); we ask for ``identity`` encoding,
and a compressed answer is decoded only where offsets do not matter (a whole file), never for a
range (D9). Transport failures and read timeouts become ``TransientError`` (D5, D6).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from lexitui.downloads.errors import (
    ProtocolError,
    RangeIgnoredError,
    RangeMismatchError,
    TransientError,
)
from lexitui.downloads.http_status import check_status, shown_url
from lexitui.downloads.resolve import Auth, headers_for

_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
_UNSATISFIED = re.compile(r"^bytes \*/(\d+)$")


class Unsatisfiable(Exception):
    """416: nothing at or past the range's start; ``total`` is the size the server states."""

    def __init__(self, total: int | None) -> None:
        super().__init__(f"range not satisfiable (file size {total})")
        self.total = total


@dataclass
class Request:
    url: str
    origin_url: str
    auth: Auth | None
    start: int
    end: int | None  # exclusive; None: to the end of the file
    if_range: str | None = None
    whole_ok: bool = False  # a 200 (the whole file) may be used: the caller restarts at 0

    @property
    def range_header(self) -> str | None:
        if self.start == 0 and self.end is None:
            return None
        return f"bytes={self.start}-{'' if self.end is None else self.end - 1}"


@dataclass
class Body:
    start: int  # the file offset of the body's first byte
    end: int | None  # exclusive; None: unknown until the stream ends
    total: int | None  # the file size, where the server said it
    decoded: bool  # a content coding was undone: the server's offsets do not apply
    response: httpx.Response

    async def pieces(self) -> AsyncIterator[bytes]:
        """The body, never more than ``end - start`` bytes; transport errors are transient."""
        left = None if self.end is None else self.end - self.start
        source = self.response.aiter_bytes() if self.decoded else self.response.aiter_raw()
        try:
            async for data in source:
                if left is not None:
                    data = data[:left]
                    left -= len(data)
                if data:
                    yield data
                if left == 0:
                    return
        except httpx.TimeoutException:
            raise TransientError(
                f"{shown_url(str(self.response.url))}: the transfer stalled"
            ) from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise TransientError(f"{shown_url(str(self.response.url))}: {exc!r}") from None


@asynccontextmanager
async def open_body(client: httpx.AsyncClient, request: Request) -> AsyncIterator[Body]:
    extra: dict[str, str] = {}
    if request.range_header is not None:
        extra["Range"] = request.range_header
        if request.if_range:
            extra["If-Range"] = request.if_range
    headers = headers_for(request.url, request.auth, extra)
    try:
        async with client.stream("GET", request.url, headers=headers) as response:
            yield _checked(request, response)
    except httpx.TimeoutException:
        raise TransientError(f"{shown_url(request.url)}: no answer in time") from None
    except httpx.TransportError as exc:
        raise TransientError(f"{shown_url(request.url)}: {exc!r}") from None


def _checked(request: Request, response: httpx.Response) -> Body:
    status = response.status_code
    check_status(status, request.url, request.origin_url, response.headers)
    if status == 416:
        match = _UNSATISFIED.match(response.headers.get("content-range", ""))
        raise Unsatisfiable(int(match[1]) if match else None)
    if status not in (200, 206):
        raise ProtocolError(f"HTTP {status} from {shown_url(request.url)}")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    decoded = encoding not in ("", "identity")
    if status == 206:
        if decoded:
            raise ProtocolError(
                f"{shown_url(request.url)} sent a {encoding}-compressed byte range; its offsets "
                "cannot be used"
            )
        return _partial_body(request, response)
    if request.range_header is not None and not request.whole_ok:
        raise RangeIgnoredError(
            f"{shown_url(request.url)} answered a Range request with the whole file"
        )
    length = None if decoded else _length(response)
    return Body(0, length, length, decoded, response)


def _partial_body(request: Request, response: httpx.Response) -> Body:
    asked = request.range_header or "the whole file"
    match = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
    if match is None or request.range_header is None:
        raise RangeMismatchError(
            f"{shown_url(request.url)}: a 206 without a usable Content-Range for {asked}"
        )
    first, last = int(match[1]), int(match[2])
    total = None if match[3] == "*" else int(match[3])
    want_last = (request.end - 1) if request.end is not None else (total - 1 if total else None)
    length = _length(response)
    if (
        first != request.start
        or (want_last is not None and last != want_last)
        or (length is not None and length != last - first + 1)
    ):
        raise RangeMismatchError(
            f"{shown_url(request.url)} sent bytes {first}-{last} for a request of {asked}"
        )
    return Body(first, last + 1, total, False, response)


def _length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None

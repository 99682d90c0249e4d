"""Reading a GGUF header over HTTP with Range requests, without downloading the model.

Hugging Face's ``resolve`` URLs redirect to a CDN; each Range request goes to the original URL
again (not to the CDN URL it was sent to), so the caller's Authorization header is only ever
attached by us to the origin, and httpx drops it on the cross-origin redirect (checklist K3).
The calls are synchronous; async callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType

import httpx

from lexitui.domain.units import KIB, MIB
from lexitui.gguf.errors import GgufError, GgufFetchError
from lexitui.gguf.header import parse_header
from lexitui.gguf.limits import DEFAULT_LIMITS, GgufLimits
from lexitui.gguf.records import GgufHeader
from lexitui.gguf.text import safe_text

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED_RANGE = re.compile(r"bytes \*/(\d+)")
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# The whole read, every request and redirect together: per-read timeouts alone let a server
# that sends one byte every few seconds hold the reader for as long as it likes.
DEFAULT_DEADLINE_S = 60.0


@dataclass(frozen=True)
class RemoteHeader:
    header: GgufHeader
    bytes_fetched: int  # body bytes received, to compare with header.header_bytes
    requests: int
    total_size: int | None
    url: str


def display_url(url: httpx.URL | str) -> str:
    """The URL without its query string (signed URLs carry credentials there, checklist K2)."""
    try:
        shown = str(httpx.URL(url).copy_with(query=None, fragment=None))
    except httpx.InvalidURL:
        shown = str(url).split("?", 1)[0].split("#", 1)[0]
    return safe_text(shown)


def status_error(status: int, url: str) -> GgufFetchError:
    shown = display_url(url)
    if status in (401, 403):
        return GgufFetchError(
            f"HTTP {status} for {shown}: it needs a Hugging Face token (set HF_TOKEN), "
            "or accept the model's license on its Hub page"
        )
    if status == 404:
        return GgufFetchError(f"HTTP 404: {shown} not found")
    return GgufFetchError(f"HTTP {status} for {shown}")


class HttpRangeSource:
    """A forward-only ``ByteSource`` over one URL: one Range request per read.

    A server that ignores Range and answers 200 with the whole file is read as a stream: the
    bytes before each offset are discarded, and the stream is closed once the header is parsed,
    so we never download the model (checklist D1's cousin).
    """

    def __init__(
        self,
        client: httpx.Client,
        url: str,
        headers: Mapping[str, str],
        deadline_s: float | None = None,
    ) -> None:
        self._client = client
        self._deadline_s = deadline_s
        self._deadline = None if deadline_s is None else time.monotonic() + deadline_s
        self._url = url
        self._headers = {**headers, "Accept-Encoding": "identity"}
        self._size: int | None = None
        self._whole: httpx.Response | None = None  # the 200 answer being streamed
        self._whole_chunks: Iterator[bytes] | None = None
        self._whole_pos = 0  # file offset of _whole_pending[0]
        self._whole_pending = b""
        self.requests = 0
        self.bytes_fetched = 0

    @property
    def size(self) -> int | None:
        return self._size

    def __enter__(self) -> HttpRangeSource:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._whole is not None:
            self._whole.close()
            self._whole = None

    def read(self, offset: int, size: int) -> bytes:
        try:
            if self._whole is not None:
                return self._read_whole(offset, size)
            return self._read_range(offset, size)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            if self._past_deadline():
                raise self._deadline_error() from None
            reason = safe_text(str(exc) or type(exc).__name__)
            raise GgufFetchError(f"cannot fetch {display_url(self._url)}: {reason}") from exc

    def _past_deadline(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def _deadline_error(self) -> GgufError:
        return GgufError(
            f"cannot fetch {display_url(self._url)}: no complete header within "
            f"{self._deadline_s:g} s (the server is too slow)"
        )

    def _check_deadline(self) -> None:
        if self._past_deadline():
            raise self._deadline_error()

    def _timeout(self) -> httpx.Timeout | httpx._client.UseClientDefault:
        """This request's timeouts: the client's, each cut to the time left before the deadline."""
        if self._deadline is None:
            return httpx.USE_CLIENT_DEFAULT
        left = max(0.001, self._deadline - time.monotonic())
        base = self._client.timeout

        def cut(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(
            connect=cut(base.connect),
            read=cut(base.read),
            write=cut(base.write),
            pool=cut(base.pool),
        )

    def _read_range(self, offset: int, size: int) -> bytes:
        self._check_deadline()
        request = self._client.build_request(
            "GET",
            self._url,
            headers={**self._headers, "Range": f"bytes={offset}-{offset + size - 1}"},
            timeout=self._timeout(),
        )
        response = self._client.send(request, stream=True, follow_redirects=True)
        self.requests += 1
        if response.status_code == 200:
            self._start_whole(response)
            return self._read_whole(offset, size)
        try:
            if response.status_code == 416:  # the offset is at or past the end of the file
                match = _UNSATISFIED_RANGE.fullmatch(response.headers.get("content-range", ""))
                if match:
                    self._set_size(int(match.group(1)))
                return b""
            if response.status_code != 206:
                raise status_error(response.status_code, self._url)
            self._check_encoding(response)
            first, last = self._check_content_range(response, offset, offset + size - 1)
            return self._read_body(response, last - first + 1)
        finally:
            response.close()

    def _check_content_range(
        self, response: httpx.Response, first: int, last: int
    ) -> tuple[int, int]:
        """Checklist D2: a 206 must be exactly the range asked for (cut short only at EOF)."""
        header = response.headers.get("content-range", "")
        match = _CONTENT_RANGE.fullmatch(header.strip())
        if match is None:
            shown = safe_text(header)
            raise GgufFetchError(f"server sent a 206 with a bad Content-Range {shown!r}")
        got_first, got_last = int(match.group(1)), int(match.group(2))
        total = None if match.group(3) == "*" else int(match.group(3))
        if total is not None:
            self._set_size(total)
        ends_at_eof = total is not None and got_last == total - 1 and got_last < last
        if got_first != first or (got_last != last and not ends_at_eof) or got_last < got_first:
            raise GgufFetchError(
                f"server sent bytes {got_first}-{got_last} for a request of bytes {first}-{last} "
                "(Content-Range mismatch)"
            )
        return got_first, got_last

    def _read_body(self, response: httpx.Response, expected: int) -> bytes:
        pieces: list[bytes] = []
        got = 0
        for piece in response.iter_raw():
            self._check_deadline()
            got += len(piece)
            self.bytes_fetched += len(piece)
            if got > expected:
                raise GgufFetchError(
                    f"server sent more than the {expected} bytes of its Content-Range"
                )
            pieces.append(piece)
        if got < expected:
            raise GgufFetchError(f"connection closed after {got} of {expected} bytes")
        return b"".join(pieces)

    def _set_size(self, total: int) -> None:
        if self._size is not None and self._size != total:
            raise GgufFetchError(f"the file changed size during the read ({self._size} -> {total})")
        self._size = total

    @staticmethod
    def _check_encoding(response: httpx.Response) -> None:
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise GgufFetchError(
                f"server compressed the reply ({safe_text(encoding)}) despite "
                "Accept-Encoding: identity"
            )

    def _start_whole(self, response: httpx.Response) -> None:
        try:
            self._check_encoding(response)
        except GgufError:
            response.close()
            raise
        length = response.headers.get("content-length", "")
        if length.isdigit():
            self._set_size(int(length))
        self._whole = response
        self._whole_chunks = response.iter_raw()
        self._whole_pos = 0
        self._whole_pending = b""

    def _read_whole(self, offset: int, size: int) -> bytes:
        """Serve a read from the 200 stream: drop bytes before ``offset``, take ``size``."""
        assert self._whole_chunks is not None
        if offset < self._whole_pos:
            raise GgufError("internal error: a backward read of a streamed reply")
        out = bytearray()
        while len(out) < size:
            if not self._whole_pending:
                self._check_deadline()
                piece = next(self._whole_chunks, b"")
                if not piece:
                    break  # end of the file
                self.bytes_fetched += len(piece)
                self._whole_pending = piece
            skip = min(offset - self._whole_pos, len(self._whole_pending))
            if skip:
                self._whole_pending = self._whole_pending[skip:]
                self._whole_pos += skip
                continue
            take = self._whole_pending[: size - len(out)]
            out += take
            self._whole_pending = self._whole_pending[len(take) :]
            self._whole_pos += len(take)
            offset += len(take)
        return bytes(out)


def read_remote_header(
    url: str,
    *,
    client: httpx.Client | None = None,
    headers: Mapping[str, str] | None = None,
    first_chunk: int = 64 * KIB,
    max_chunk: int = 4 * MIB,
    limits: GgufLimits = DEFAULT_LIMITS,
    deadline_s: float | None = DEFAULT_DEADLINE_S,
) -> RemoteHeader:
    """Parse and validate the header of the GGUF file at ``url`` with growing Range requests.

    Bytes fetched stay under the header size plus one request (``max_chunk`` at most). Every
    failure (HTTP status, network, bad reply, bad file, ``deadline_s`` passed) is a GgufError
    with a one-line message.
    """
    own_client = client is None
    http = client or httpx.Client(follow_redirects=True, timeout=DEFAULT_TIMEOUT)
    try:
        with HttpRangeSource(http, url, headers or {}, deadline_s) as source:
            header = parse_header(source, limits=limits, first_read=first_chunk, max_read=max_chunk)
    finally:
        if own_client:
            http.close()
    return RemoteHeader(header, source.bytes_fetched, source.requests, source.size, url)

"""Fault switches for the fake Hub's CDN: the ways real CDNs, proxies and networks misbehave.

Set them on ``FakeHub.faults``; counters (``ignore_range=2``) apply to that many of the next
GETs for file bytes, flags (``corrupt_offset``) to all of them. Every body byte the CDN sends is
counted in ``bytes_sent``, so a test can tell what a resume cost.

* ``ignore_range``: answer a Range request not from byte 0 with 200 and the whole file (D1;
  from byte 0 the whole file would start at the right place and prove nothing)
* ``shift_range``: answer with a 206 for the range one byte further on, saying so (D2)
* ``resets``/``reset_after``: cut the connection after that many body bytes (D5)
* ``stalls``/``stall_after``: stop sending after that many bytes, connection open (D6)
* ``corrupt_offset``: flip the byte at that file offset in every body (D8)
* ``chunked``: no Content-Length, chunked bodies, on GET and HEAD (D9)
* ``gzip``: "if_accepted" compresses when the client allows gzip, "always" whatever it asks
  (both answer 200 with the whole file, as dynamic compression does) (D9)
* ``hide_linked_size``: the origin's redirect carries no ``X-Linked-Size`` (D9, with ``chunked``)
* ``expire_after``: the signing key changes after that many bodies (D10)
* ``rate``: bytes per second per connection (a slow link, for kill tests)
"""

from __future__ import annotations

import asyncio
import gzip
import re
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from tests.fakes.hub_http import HubRequest
from tests.fakes.hub_records import HubFile
from tests.fakes.ollama_http import Response

STEP = 16 * 1024
PACED_STEP = 256 * 1024  # a throttled body goes out in steps of up to a twentieth of a second
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-")


@dataclass
class CdnFaults:
    ignore_range: int = 0
    shift_range: int = 0
    resets: int = 0
    reset_after: int = 0
    stalls: int = 0
    stall_after: int = 0
    corrupt_offset: int | None = None
    chunked: bool = False
    gzip: str = "never"  # "never", "if_accepted", "always"
    hide_linked_size: bool = False
    expire_after: int | None = None
    rate: int | None = None
    bytes_sent: int = 0
    bodies: int = 0  # GETs answered with file bytes
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self, name: str) -> bool:
        """Use up one of a counter's remaining faults; True when this request gets it."""
        with self._lock:
            left = getattr(self, name)
            if left > 0:
                setattr(self, name, left - 1)
                return True
            return False

    def count(self, sent: int) -> None:
        with self._lock:
            self.bytes_sent += sent

    def reset_counters(self) -> None:
        with self._lock:
            self.bytes_sent = 0
            self.bodies = 0

    # -- requests -------------------------------------------------------------------------------

    def adjust_request(self, request: HubRequest) -> HubRequest:
        """Rewrite a Range request the way a broken server would misread it."""
        wanted = request.headers.get("range")
        if request.method != "GET" or not wanted:
            return request
        if not wanted.startswith("bytes=0-") and self.take("ignore_range"):
            return _without(request, "range")
        if self.take("shift_range"):
            match = re.match(r"^bytes=(\d+)-(\d*)$", wanted)
            if match:
                start = int(match[1]) + 1
                headers = {**request.headers, "range": f"bytes={start}-{match[2]}"}
                return replace(request, headers=headers)
        return request

    # -- responses ------------------------------------------------------------------------------

    def shape(self, request: HubRequest, f: HubFile, response: Response) -> Response:
        if self.chunked:
            response.headers.pop("Content-Length", None)
        if request.method != "GET" or response.status not in (200, 206):
            return response
        if self._compress(request):
            return self._gzipped(f, response)
        with self._lock:
            self.bodies += 1
        cut = self.reset_after if self.take("resets") else None
        stall = self.stall_after if self.take("stalls") else None
        match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
        start = int(match[1]) if match else 0
        if response.stream is not None:
            response.stream = self._body(response.stream, start, cut, stall)
        return response

    def _compress(self, request: HubRequest) -> bool:
        accepted = "gzip" in request.headers.get("accept-encoding", "").lower()
        return self.gzip == "always" or (self.gzip == "if_accepted" and accepted)

    def _gzipped(self, f: HubFile, response: Response) -> Response:
        body = f.body if isinstance(f.body, bytes) else Path(f.body).read_bytes()
        packed = gzip.compress(body)
        headers = {
            k: v
            for k, v in response.headers.items()
            if k not in ("Content-Range", "Content-Length")
        }
        headers["Content-Encoding"] = "gzip"
        if not self.chunked:
            headers["Content-Length"] = str(len(packed))
        self.count(len(packed))
        return Response(
            200, content_type=response.content_type, stream=_once(packed), headers=headers
        )

    async def _body(
        self, stream: AsyncIterator[bytes], offset: int, cut: int | None, stall: int | None
    ) -> AsyncIterator[bytes]:
        sent = 0
        step = min(PACED_STEP, max(256, self.rate // 20)) if self.rate else STEP
        clock = asyncio.get_running_loop().time
        began = clock()
        try:
            async for piece in stream:
                for at in range(0, len(piece), step):
                    data = bytearray(piece[at : at + step])
                    for limit, stop in ((cut, "cut"), (stall, "stall")):
                        if limit is not None and sent + len(data) > limit:
                            data = data[: limit - sent]
                            if data:
                                yield bytes(data)
                                self.count(len(data))
                            if stop == "cut":
                                raise ConnectionResetError("fake CDN: connection reset")
                            await asyncio.sleep(3600)
                    where = self.corrupt_offset
                    if where is not None and offset <= where < offset + len(data):
                        data[where - offset] ^= 0xFF
                    if self.rate:  # paced against a deadline, so slow steps catch up
                        ahead = (sent + len(data)) / self.rate - (clock() - began)
                        if ahead > 0:
                            await asyncio.sleep(ahead)
                    yield bytes(data)
                    sent += len(data)
                    offset += len(data)
                    self.count(len(data))
        finally:
            closer = getattr(stream, "aclose", None)
            if closer is not None:
                await closer()


def _without(request: HubRequest, header: str) -> HubRequest:
    return replace(request, headers={k: v for k, v in request.headers.items() if k != header})


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data

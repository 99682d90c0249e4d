"""A tiny HTTP/1.1 file server on 127.0.0.1 with Range support and ways to misbehave.

Standard library only, sync, one thread per connection: the code under test is a sync httpx
client, so a plain ``ThreadingHTTPServer`` is the simplest honest peer.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

CHUNK = 64 * 1024


@dataclass
class Behaviour:
    path: Path | None = None  # the file served at every URL path
    # "range"; "ignore_range" (always 200); "wrong_range" (Content-Range off by one); "gzip";
    # "unknown_total" (Content-Range "bytes a-b/*", so the client never learns the size)
    mode: str = "range"
    status: int | None = None  # answer every request with this status instead
    redirect_to: str | None = None  # answer every request with a 302 to this URL
    requests: list[dict[str, str]] = field(default_factory=list)  # headers, lower-case keys
    bytes_sent: int = 0
    finished: threading.Event = field(default_factory=threading.Event)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        state = self.server.behaviour
        state.requests.append({k.lower(): v for k, v in self.headers.items()})
        try:
            self._answer(state)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            state.finished.set()

    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _answer(self, state: Behaviour) -> None:
        if state.redirect_to is not None:
            self._head(302, {"Location": state.redirect_to, "Content-Length": "0"})
            return
        if state.status is not None:
            body = b'{"error":"nope"}'
            self._head(state.status, {"Content-Length": str(len(body))})
            self.wfile.write(body)
            return
        assert state.path is not None
        size = state.path.stat().st_size
        match = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
        if match is None or state.mode == "ignore_range":
            self._head(200, {"Content-Length": str(size)})
            self._send_file(state, 0, size)
            return
        first, last = int(match.group(1)), min(int(match.group(2)), size - 1)
        if first >= size:
            self._head(416, {"Content-Range": f"bytes */{size}", "Content-Length": "0"})
            return
        shown_first = first + 1 if state.mode == "wrong_range" else first
        total = "*" if state.mode == "unknown_total" else str(size)
        headers = {
            "Content-Range": f"bytes {shown_first}-{last}/{total}",
            "Content-Length": str(last - first + 1),
        }
        if state.mode == "gzip":
            headers["Content-Encoding"] = "gzip"
        self._head(206, headers)
        self._send_file(state, first, last - first + 1)

    def _send_file(self, state: Behaviour, offset: int, length: int) -> None:
        assert state.path is not None
        with state.path.open("rb") as file:
            file.seek(offset)
            while length > 0:
                piece = file.read(min(CHUNK, length))
                self.wfile.write(piece)
                state.bytes_sent += len(piece)
                length -= len(piece)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    behaviour: Behaviour


class RangeServer:
    """``with RangeServer(Behaviour(path=...)) as server: server.url``"""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.behaviour = behaviour
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )  # a short poll: shutdown() waits for one

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/org/model/resolve/main/m.gguf"

    def __enter__(self) -> RangeServer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

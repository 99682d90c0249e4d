"""``lexitui gguf`` never waits forever: a URL read has one deadline for the whole header, and a
path that is not a regular file (a named pipe) is refused at once instead of blocking on open."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lexitui.gguf import GgufError
from lexitui.gguf.remote import read_remote_header

TRICKLE_EVERY_S = 0.2
GIVE_UP_AFTER_S = 60  # the trickler stops on its own, so a failing test still ends


class Trickler:
    """An HTTP server that answers every request with a plausible head, then one body byte per
    ``TRICKLE_EVERY_S``: always within any read timeout, never done."""

    def __init__(self, status: int) -> None:
        self.status = status
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}/model.gguf"

    def __enter__(self) -> Trickler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        self._listener.settimeout(0.1)  # so the loop sees the stop flag
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        total = 1_000_000
        with conn:
            request = conn.recv(65536).decode("latin-1")
            found = re.search(r"(?im)^range: bytes=(\d+)-(\d+)", request)
            first, last = (int(found[1]), int(found[2])) if found else (0, total - 1)
            if self.status == 206:
                length = last - first + 1
                ranges = f"Content-Range: bytes {first}-{last}/{total}\r\n"
            else:
                length, ranges = total, ""
            head = f"HTTP/1.1 {self.status} OK\r\nContent-Length: {length}\r\n{ranges}\r\n"
            try:
                conn.sendall(head.encode() + b"G")
                ends = time.monotonic() + GIVE_UP_AFTER_S
                while not self._stop.wait(TRICKLE_EVERY_S) and time.monotonic() < ends:
                    conn.sendall(b"G")
            except OSError:
                return


@pytest.fixture(params=[206, 200], ids=["range", "whole-file"])
def trickler(request: pytest.FixtureRequest) -> Iterator[Trickler]:
    with Trickler(request.param) as server:
        yield server


def test_a_trickling_server_hits_the_deadline(trickler: Trickler) -> None:
    started = time.monotonic()
    with pytest.raises(GgufError, match=r"no complete header within 1 s"):
        read_remote_header(trickler.url, deadline_s=1, first_chunk=64 * 1024)
    assert time.monotonic() - started < 20  # generous: the deadline is 1 s


def test_the_cli_deadline_is_one_line_and_an_exit(trickler: Trickler) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lexitui", "gguf", trickler.url, "--deadline", "1"],
        capture_output=True,
        text=True,
        timeout=30,
        env=os.environ.copy(),
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"lexitui: cannot fetch {trickler.url}: no complete header within 1 s "
        "(the server is too slow)"
    ]


def test_a_bad_deadline_is_refused_by_the_parser() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lexitui", "gguf", "x.gguf", "--deadline", "nan"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "expected seconds" in result.stderr


@pytest.mark.parametrize("command", [["gguf"], ["fit"], ["import"]])
def test_a_named_pipe_is_refused_not_waited_on(tmp_path: Path, command: list[str]) -> None:
    fifo = tmp_path / "model.gguf"
    os.mkfifo(fifo)
    result = subprocess.run(  # nobody ever writes to the pipe: an open() would block forever
        [sys.executable, "-m", "lexitui", command[0], str(fifo), *command[1:]],
        capture_output=True,
        text=True,
        timeout=30,
        env=os.environ.copy(),
    )
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert str(fifo) in result.stderr

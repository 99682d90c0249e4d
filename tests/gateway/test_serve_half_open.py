"""``lexitui serve`` under the open-file limit most machines ship with (1024) and 1,100 client
connections that each send part of a request head and then wait: a normal client still gets
``/v1/models`` within a second, and the gateway's error output stays a few lines."""

from __future__ import annotations

import asyncio
import resource
import signal
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from lexitui.config import Paths
from tests.gateway.serve_process import running_serve

pytestmark = pytest.mark.timeout(120)

ATTACKERS = 1100
SERVE_FILE_LIMIT = 1024
HALF_OPEN = b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n"


def _limit_open_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (SERVE_FILE_LIMIT, SERVE_FILE_LIMIT))


@pytest.fixture
def serve(paths: Paths) -> Iterator[tuple[str, int, subprocess.Popen[str]]]:
    with running_serve(preexec_fn=_limit_open_files) as (url, proc):
        host_port = url.removeprefix("http://").removesuffix("/v1")
        host, _, port = host_port.rpartition(":")
        yield host, int(port), proc


@pytest.fixture
def many_files() -> Iterator[None]:
    """This process holds the 1,100 client sockets: give it room for them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = ATTACKERS + 512
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.fail(f"the open-file hard limit ({hard}) is below {wanted}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_1100_half_open_connections_leave_models_answering(
    serve: tuple[str, int, subprocess.Popen[str]], many_files: None
) -> None:
    host, port, proc = serve
    writers: list[asyncio.StreamWriter] = []
    try:
        for start in range(0, ATTACKERS, 50):  # in batches, so the listen backlog keeps up
            opened = await asyncio.gather(
                *(asyncio.open_connection(host, port) for _ in range(start, start + 50))
            )
            for _reader, writer in opened:
                writer.write(HALF_OPEN)
                writers.append(writer)
        await asyncio.gather(*(w.drain() for w in writers), return_exceptions=True)
        await asyncio.sleep(1.0)  # the gateway has taken every one of them in

        async with httpx.AsyncClient(timeout=10) as http:
            for _ in range(3):
                started = time.monotonic()
                answer = await http.get(f"http://{host}:{port}/v1/models")
                assert answer.status_code == 200
                assert time.monotonic() - started < 1.0
        assert proc.poll() is None
    finally:
        for writer in writers:
            writer.close()
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "Too many open files" not in err and "Traceback" not in err
    assert len(err.splitlines()) < 10

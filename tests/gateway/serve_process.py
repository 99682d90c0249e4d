"""``lexitui serve`` as a real child process, and ``lexitui ps`` read from outside, as the
gateway and engine tests use them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def running_serve(
    *args: str,
    env: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``lexitui serve --port 0 ARGS``: its ``/v1`` URL once it listens, and the process; it
    is stopped with SIGTERM (as a user would) when the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lexitui", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy() if env is None else env,
        preexec_fn=preexec_fn,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("lexitui gateway on "), proc.stderr.read() if proc.stderr else line
        yield line.split()[-1], proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise


def engines_running() -> list[dict[str, Any]]:
    """What ``lexitui ps --json`` in another process shows."""
    result = subprocess.run(
        [sys.executable, "-m", "lexitui", "ps", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows

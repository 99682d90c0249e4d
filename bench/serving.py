"""``lexitui serve`` with the starter loaded, in its own process, as the gateway figures run it:
the process, its ``/v1`` URL, and the engine behind it (what ``lexitui ps`` reads)."""

from __future__ import annotations

import subprocess
import sys

from lexitui.config import Paths
from lexitui.engine.state import live_engines
from lexitui.storage.starter import STARTER_ID


def serve(*extra: str) -> tuple[subprocess.Popen[str], str]:
    """``lexitui serve --port 0 --model STARTER EXTRA``; the process and its ``/v1`` URL. It
    leaves Ollama's port alone: a figure must not depend on, or take, what holds it."""
    serve_args = ["serve", "--port", "0", "--ollama-port", "off", "--model", STARTER_ID]
    proc = subprocess.Popen(
        [sys.executable, "-m", "lexitui", *serve_args, *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("lexitui gateway on "):
        proc.kill()
        raise SystemExit(f"lexitui serve did not start: {line!r}")
    return proc, line.split()[-1]


def engine_of(proc: subprocess.Popen[str]) -> tuple[str, dict[str, str]]:
    """The engine's URL and the header carrying its secret, from the serving process's state."""
    [state] = [s for s in live_engines(Paths.from_env()) if s.owner_pid == proc.pid]
    return state.endpoint, {"Authorization": f"Bearer {state.api_key}"}

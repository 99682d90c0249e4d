"""Failover between hosts: two ``lexitui serve`` hosts (own homes, own keys, the starter loaded)
behind a front ``lexitui serve`` that knows them as ``[hosts.NAME]``. Each round kills the host
the front would pick next (SIGKILL, engine and all, as a machine that dies) and times, from the
kill, how long streamed requests to the front take to their first token. The front spreads idle
hosts' requests in turn, so of the two requests sent one after the other right after the kill,
one is sent to the dead host: the front is refused, and hands it to the other host before
anything was sent. The figure is the later first token of the two, timed from the kill (so it
includes one whole answer as well). Goal < 1 s.

Run with ``.venv/bin/python bench/bench_fleet_failover.py``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from lexitui.config import HOME_ENV
from lexitui.storage.starter import STARTER_ID

ROUNDS = 5
NAMES = ("alpha", "beta")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(env: dict[str, str], *args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "lexitui", "serve", "--ollama-port", "off", *args],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group: SIGKILL takes its engine with it
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("lexitui gateway on "):
        proc.kill()
        raise SystemExit(f"lexitui serve did not start: {line!r}")
    return proc, line.split()[-1]


def host(root: Path, name: str, port: int) -> subprocess.Popen[str]:
    env = {**os.environ, HOME_ENV: str(root / name), "LEXITUI_GATEWAY_KEY": f"key-of-{name}"}
    args = ("--port", str(port), "--model", STARTER_ID, "--ctx", "1024")
    return start(env, *args)[0]


def first_token_s(front: str) -> float:
    """Seconds to the first streamed token of a short greedy answer."""
    body = {
        "model": STARTER_ID,
        "messages": [{"role": "user", "content": "Say hi."}],
        "max_tokens": 4,
        "temperature": 0,
        "stream": True,
    }
    started = time.perf_counter()
    with httpx.stream("POST", f"{front}/chat/completions", json=body, timeout=120) as answer:
        answer.raise_for_status()
        for line in answer.iter_lines():
            data = line.removeprefix("data: ")
            if not line.startswith("data: ") or data == "[DONE]":
                continue
            for choice in json.loads(data).get("choices") or ():
                if choice.get("delta", {}).get("content"):
                    return time.perf_counter() - started
    raise SystemExit("the answer had no token")


def serving_host(front_env: dict[str, str]) -> str:
    """The host the front would pick next: the least loaded healthy one (both are idle, so
    the one that has answered fewer)."""
    shown = subprocess.run(
        [sys.executable, "-m", "lexitui", "hosts", "--json"],
        capture_output=True, text=True, timeout=60, env=front_env,
    )  # fmt: skip
    rows = [r for r in json.loads(shown.stdout) if r["healthy"]]
    return min(rows, key=lambda r: (r.get("running", 0), r["name"]))["name"]


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="lexitui-failover-"))
    ports = {name: free_port() for name in NAMES}
    keys = {f"KEY_{name.upper()}": f"key-of-{name}" for name in NAMES}
    front_env = {**os.environ, HOME_ENV: str(root / "front"), **keys}
    for name, port in ports.items():
        subprocess.run(
            [sys.executable, "-m", "lexitui", "host", "add", name, f"http://127.0.0.1:{port}",
             "--key-env", f"KEY_{name.upper()}"],
            check=True, capture_output=True, env=front_env,
        )  # fmt: skip
    hosts = {name: host(root, name, port) for name, port in ports.items()}
    front, front_url = start(front_env, "--port", "0")
    try:
        for _ in range(3):
            first_token_s(front_url)  # warm: both hosts known healthy, engines answering
        plain: list[float] = []
        after_kill: list[float] = []
        for _ in range(ROUNDS):
            plain += [first_token_s(front_url) for _ in range(2)]
            victim = serving_host(front_env)
            killed_at = time.perf_counter()
            os.killpg(hosts[victim].pid, signal.SIGKILL)
            for _ in range(2):
                first_token_s(front_url)
            after_kill.append(time.perf_counter() - killed_at)
            hosts[victim].wait(timeout=30)
            hosts[victim] = host(root, victim, ports[victim])
            time.sleep(3)  # the front sees it healthy again before the next round
        print(f"first token, both hosts up: {statistics.median(plain) * 1000:.0f} ms (median)")
        print(
            f"both first tokens after SIGKILL of a host, from the kill: median "
            f"{statistics.median(after_kill) * 1000:.0f} ms, worst {max(after_kill) * 1000:.0f} ms"
            f" over {ROUNDS} rounds (goal < 1000 ms)"
        )
    finally:
        front.terminate()
        for proc in hosts.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        front.wait(timeout=30)


if __name__ == "__main__":
    main()

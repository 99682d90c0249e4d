"""Three ``lexitui serve`` processes with their own homes and keys as three hosts, and a fourth
in front of them: ``lexitui hosts --json`` shows all three, thirty requests to the front spread
over them by load, and a host killed (SIGKILL, engine and all) mid-run loses no request that had
not started answering; it is shown down with its reason, and up again once restarted."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from lexitui.config import HOME_ENV, Paths
from lexitui.storage.starter import STARTER_ID
from tests.gateway.serve_process import running_serve
from tests.home_config import write_test_config

pytestmark = pytest.mark.engine
NAMES = ("alpha", "beta", "gamma")
REQUESTS = 30


def free_port() -> int:
    """A port free now: a host keeps its address across a restart, as a real one does."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def home_env(home: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, HOME_ENV: str(home), **extra}


@contextmanager
def host(home: Path, port: int, name: str) -> Iterator[subprocess.Popen[str]]:
    env = home_env(home, LEXITUI_GATEWAY_KEY=f"key-of-{name}")
    write_test_config(Paths.from_env(env).config_file, "")
    args = ("--port", str(port), "--model", STARTER_ID, "--ctx", "1024", "--parallel", "2")
    # Its own process group, so SIGKILL takes its engine down with it, as a dead machine does.
    with running_serve(*args, env=env, preexec_fn=os.setsid) as (_url, proc):
        yield proc


def hosts_json(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "lexitui", "hosts", "--json"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)}


def served_by(port: int, name: str) -> int:
    answer = httpx.get(
        f"http://127.0.0.1:{port}/lexitui/v1/status",
        headers={"Authorization": f"Bearer key-of-{name}"},
        timeout=30,
    )
    return sum(engine["total_requests"] for engine in answer.json()["engines"])


class Answer:
    """One streamed answer as the client saw it."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.text = ""
        self.broken = False  # an error frame after the answer had started

    @property
    def complete(self) -> bool:
        return self.status == 200 and bool(self.text) and not self.broken


async def ask_all(front: str, on_done: Callable[[], None] = lambda: None) -> list[Answer]:
    async with httpx.AsyncClient(timeout=120) as client:
        line = asyncio.Semaphore(3)

        async def ask(i: int) -> Answer:
            body = {
                "model": STARTER_ID,
                "messages": [{"role": "user", "content": f"Say the number {i}."}],
                "max_tokens": 6,
                "temperature": 0,
                "stream": True,
            }
            async with line, client.stream("POST", f"{front}/chat/completions", json=body) as r:
                answer = Answer(r.status_code)
                async for raw in r.aiter_lines():
                    data = raw.removeprefix("data: ").strip()
                    if not raw.startswith("data: ") or data == "[DONE]":
                        continue
                    frame = json.loads(data)
                    if "error" in frame:
                        answer.broken = True
                    for choice in frame.get("choices") or ():
                        answer.text += choice.get("delta", {}).get("content") or ""
            on_done()
            return answer

        return list(await asyncio.gather(*(ask(i) for i in range(REQUESTS))))


def test_three_hosts_share_the_requests_and_one_dying_loses_none(tmp_path: Path) -> None:
    ports = {name: free_port() for name in NAMES}
    keys = {f"KEY_{name.upper()}": f"key-of-{name}" for name in NAMES}
    front_env = home_env(tmp_path / "front", **keys)
    write_test_config(Paths.from_env(front_env).config_file, "")
    for name, port in ports.items():  # as a user adds them
        added = subprocess.run(
            [sys.executable, "-m", "lexitui", "host", "add", name, f"http://127.0.0.1:{port}",
             "--key-env", f"KEY_{name.upper()}"],
            capture_output=True, text=True, timeout=60, env=front_env,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
    with ExitStack() as stack:
        procs = {n: stack.enter_context(host(tmp_path / n, p, n)) for n, p in ports.items()}

        rows = hosts_json(front_env)
        assert sorted(rows) == sorted(NAMES)
        for row in rows.values():
            assert row["healthy"] and row["reason"] == "ready", row
            assert row["loaded"] == [STARTER_ID] and row["latency_ms"] is not None
        for key in keys.values():
            assert key not in json.dumps(rows)

        with running_serve(env=front_env) as (front, _front_proc):
            answers = asyncio.run(ask_all(front))
            assert all(answer.complete for answer in answers)
            counts = {n: served_by(p, n) for n, p in ports.items()}
            assert sum(counts.values()) == REQUESTS
            assert all(count > 0 for count in counts.values()), counts  # spread, not piled up

            done = 0
            victim = procs["beta"]

            def count_and_kill() -> None:
                nonlocal done
                done += 1
                if done == 8:  # mid-run, with requests open on every host
                    os.killpg(victim.pid, signal.SIGKILL)

            answers = asyncio.run(ask_all(front, count_and_kill))
            victim.wait(timeout=30)
            # None lost before its first token: each failure was handed to another host. Only
            # an answer already streaming from the dead host can break (at most its slots).
            assert all(answer.status == 200 and answer.text for answer in answers)
            broken = [answer for answer in answers if not answer.complete]
            assert all(answer.broken for answer in broken) and len(broken) <= 2

            rows = hosts_json(front_env)
            assert not rows["beta"]["healthy"]
            assert "connection refused" in rows["beta"]["reason"]
            assert rows["alpha"]["healthy"] and rows["gamma"]["healthy"]

            with host(tmp_path / "beta", ports["beta"], "beta"):
                deadline = time.monotonic() + 60
                while not hosts_json(front_env)["beta"]["healthy"]:
                    assert time.monotonic() < deadline, "the restarted host never came back"
                    time.sleep(1)

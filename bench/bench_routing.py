"""Routing's figures, side by side in one run:

1. A routing decision with 20 providers (the local runtime with the starter loaded, and 19 cloud
   providers with real genai-prices lookups): ``LlmRouter.plan`` p50/p95. Goal p95 < 1 ms
   (roadmap < 10 ms).
2. Fallback after "connection refused": when the first provider's port is closed, how much later
   the request reaches the second provider than when it is sent there directly (the arrival is
   timed by the receiving server). Goal < 20 ms (roadmap < 100 ms).
3. ``lexitui serve`` versus calling the engine directly, from the same client thread,
   alternating: non-streaming latency (added p50 <= 5 ms, p95 <= 15 ms; LiteLLM's published
   proxy overhead is 12 ms p50, 29 ms p95) and streaming tokens/s (ratio >= 0.97).

Run with ``make bench`` or ``.venv/bin/python bench/bench_routing.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable

import httpx

from lexitui.config import Paths
from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.language_model import LanguageModelRequest, Message, TaskType
from lexitui.domain.routing import RoutingOptions, RoutingStrategy
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID

DECISIONS = 2000
FALLBACKS = 60
ROUNDS = 60
STREAM_ROUNDS = 10
OPTIONS = ModelLoadOptions(context_length=2048, threads=1, embedding=True)
CLOUD_MODELS = [
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4o"),
    ("anthropic", "claude-3-5-haiku-latest"),
    ("anthropic", "claude-sonnet-4-5"),
]
ASK = LanguageModelRequest(messages=(Message("user", "Say hello in three words."),), max_tokens=8)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: connection refused


class TimedServer:
    """A minimal OpenAI-compatible endpoint on its own thread that notes when each request
    arrives (headers read), so a fallback's delay is measured where it lands."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = int(self._sock.getsockname()[1])
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        chunks = [
            {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi"}}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
            {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 1}},
        ]
        frames = [
            f"data: {json.dumps({'id': 'x', 'object': 'chat.completion.chunk', **c})}\n\n"
            for c in chunks
        ]
        body = ("".join(frames) + "data: [DONE]\n\n").encode()
        while True:
            conn, _ = self._sock.accept()
            threading.Thread(target=self._answer, args=(conn, body), daemon=True).start()

    def _answer(self, conn: socket.socket, body: bytes) -> None:
        with conn:
            data = b""
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                self.arrivals.append(time.perf_counter())
                head, _, rest = data.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                while len(rest) < length:
                    rest += conn.recv(65536)
                data = rest[length:]
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )


def write_config(paths: Paths, alive_port: int) -> None:
    lines = ["[routing]", "allowed_fails = 1000000", ""]
    dead = closed_port()
    lines += [
        "[providers.dead]",
        'kind = "openai_compatible"',
        f'base_url = "http://127.0.0.1:{dead}/v1"',
        'model = "m"',
        "",
        "[providers.alive]",
        'kind = "openai_compatible"',
        f'base_url = "http://127.0.0.1:{alive_port}/v1"',
        'model = "m"',
        "",
    ]
    for i in range(17):
        provider, model = CLOUD_MODELS[i % len(CLOUD_MODELS)]
        lines += [
            f"[providers.cloud{i}]",
            f'kind = "{provider}"',
            f'model = "{model}"',
            f'base_url = "http://127.0.0.1:{dead}"',
            "",
        ]
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text("\n".join(lines), encoding="utf-8")


def decisions(services: Services) -> list[str]:
    router = services.routing.router
    assert len(services.routing.providers()) == 20
    for strategy in (RoutingStrategy.PREFER_LOCAL, RoutingStrategy.COST_OPTIMIZED):
        options = RoutingOptions(strategy=strategy)
        for _ in range(200):
            router.plan(ASK, options)
    rows = ["| routing decision, 20 providers | p50 µs | p95 µs |", "|---|---|---|"]
    for strategy in (
        RoutingStrategy.PREFER_LOCAL,
        RoutingStrategy.COST_OPTIMIZED,
        RoutingStrategy.PERFORMANCE_OPTIMIZED,
    ):
        options = RoutingOptions(strategy=strategy)
        times = []
        for _ in range(DECISIONS):
            started = time.perf_counter()
            router.plan(ASK, options)
            times.append((time.perf_counter() - started) * 1e6)
        rows.append(
            f"| `{strategy.value}` ({DECISIONS} plans) | {pct(times, 0.5):.0f} | "
            f"{pct(times, 0.95):.0f} |"
        )
    return rows


async def fallbacks(services: Services, server: TimedServer) -> list[str]:
    routing = services.routing
    via_dead = RoutingOptions(strategy=RoutingStrategy.CLOUD_ONLY)
    direct = RoutingOptions(strategy=RoutingStrategy.CLOUD_ONLY, provider_id="alive")
    # The dead endpoint first, the alive one next, for chat.
    routing.fallback.config.chains[TaskType.CHAT] = ("dead", "alive")
    delays: dict[str, list[float]] = {"fallback": [], "direct": []}
    for i in range(FALLBACKS):
        for name, options in (("fallback", via_dead), ("direct", direct))[:: 1 if i % 2 else -1]:
            started = time.perf_counter()
            response = await routing.complete(ASK, options=options)
            assert response.provider_id == "alive", response
            delays[name].append((server.arrivals[-1] - started) * 1000)
    del routing.fallback.config.chains[TaskType.CHAT]
    extra = [f - d for f, d in zip(delays["fallback"], delays["direct"], strict=True)]
    return [
        f"| request reaches the second provider ({FALLBACKS} each) | p50 ms | p95 ms |",
        "|---|---|---|",
        f"| sent there directly | {pct(delays['direct'], 0.5):.2f} | "
        f"{pct(delays['direct'], 0.95):.2f} |",
        f"| after the first was refused | {pct(delays['fallback'], 0.5):.2f} | "
        f"{pct(delays['fallback'], 0.95):.2f} |",
        f"| fallback delay | {pct(extra, 0.5):.2f} | {pct(extra, 0.95):.2f} |",
    ]


def timed_post(client: httpx.Client, url: str, body: dict[str, object]) -> float:
    started = time.perf_counter()
    response = client.post(url, json=body)
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000


def streamed(client: httpx.Client, url: str, body: dict[str, object]) -> float:
    first = last = 0.0
    tokens = 0
    # llama.cpp closes the connection after a streamed answer: ask both for a fresh one.
    headers = {"Connection": "close"}
    with client.stream("POST", url, json={**body, "stream": True}, headers=headers) as response:
        for line in response.iter_lines():
            if not line.startswith("data:") or line.endswith("[DONE]"):
                continue
            for choice in json.loads(line[5:]).get("choices", []):
                if (choice.get("delta") or {}).get("content"):
                    last = time.perf_counter()
                    first = first or last
                    tokens += 1
    return (tokens - 1) / (last - first)


def serve(threads: int) -> tuple[subprocess.Popen[str], str, str]:
    """``lexitui serve`` in its own process, as users run it, with the starter loaded; returns
    the process, the gateway's URL and the engine's (from ``lexitui ps``)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lexitui",
            "serve",
            "--port",
            "0",
            "--ollama-port",
            "off",
            "--model",
            STARTER_ID,
            "--threads",
            str(threads),
            "--ctx",
            "2048",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    gateway = proc.stdout.readline().split()[-1]
    listed = subprocess.run(
        [sys.executable, "-m", "lexitui", "ps", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    [engine] = [row["endpoint"] for row in json.loads(listed.stdout)]
    return proc, gateway, engine


def gateway_overhead() -> list[str]:
    proc, gateway, engine = serve(threads=1)
    ours, theirs = gateway + "/chat/completions", engine + "/v1/chat/completions"
    short = {
        "model": STARTER_ID,
        "messages": [{"role": "user", "content": "Say hi."}],
        "max_tokens": 4,
        "temperature": 0,
        "seed": 7,
    }
    long = {
        **short,
        "messages": [{"role": "user", "content": "Write three sentences about the sea."}],
        "max_tokens": 96,
    }
    latency: dict[str, list[float]] = {"direct": [], "gateway": []}
    speed: dict[str, list[float]] = {"direct": [], "gateway": []}

    def run(
        measure: Callable[[httpx.Client, str, dict[str, object]], float],
        body: dict[str, object],
        into: dict[str, list[float]],
        rounds: int,
    ) -> None:
        with httpx.Client(timeout=None) as client:
            measure(client, theirs, body)
            measure(client, ours, body)
            for i in range(rounds):
                for name, url in (("direct", theirs), ("gateway", ours))[:: 1 if i % 2 else -1]:
                    into[name].append(measure(client, url, body))

    try:
        run(timed_post, short, latency, ROUNDS)
        run(streamed, long, speed, STREAM_ROUNDS)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    added = [g - d for g, d in zip(latency["gateway"], latency["direct"], strict=True)]
    d_tps, g_tps = statistics.median(speed["direct"]), statistics.median(speed["gateway"])
    return [
        f"| non-streaming, 4 tokens ({ROUNDS} each, alternating) | p50 ms | p95 ms |",
        "|---|---|---|",
        f"| engine directly | {pct(latency['direct'], 0.5):.1f} | "
        f"{pct(latency['direct'], 0.95):.1f} |",
        f"| through `lexitui serve` | {pct(latency['gateway'], 0.5):.1f} | "
        f"{pct(latency['gateway'], 0.95):.1f} |",
        f"| added by the gateway (paired) | {pct(added, 0.5):+.1f} | {pct(added, 0.95):+.1f} |",
        "",
        f"| streaming, 96 tokens (median of {STREAM_ROUNDS}) | tokens/s |",
        "|---|---|",
        f"| engine directly | {d_tps:.1f} |",
        f"| through `lexitui serve` | {g_tps:.1f} |",
        f"| ratio | {g_tps / d_tps:.3f} |",
    ]


async def main() -> None:
    server = TimedServer()
    with tempfile.TemporaryDirectory() as home:
        os.environ["LEXITUI_HOME"] = home
        paths = Paths.from_env()
        write_config(paths, server.port)
        services = Services.build(paths)
        await services.start()
        try:
            await services.runtime.load(STARTER_ID, OPTIONS)
            await services.routing.start()
            tables = [decisions(services), await fallbacks(services, server)]
        finally:
            await services.stop()
        tables.append(gateway_overhead())
    print("\n\n".join("\n".join(t) for t in tables))


if __name__ == "__main__":
    asyncio.run(main())

"""Aggregate decode speed with 4 concurrent clients against 1, same model, 4 engine slots.

``lexitui serve --model STARTER --parallel 4`` runs in its own process, as users run it; the
clients stream chat answers through the gateway (temperature 0, a different prompt each, 96
tokens at most). A round is one client alone, then four at once; rounds alternate so machine
noise hits both alike. The same is asked of the engine's own endpoint directly, to tell what
the engine gives from what the gateway takes. Aggregate tokens/s is every completion token (the
answers' ``usage``) over the wall time from the first request sent to the last answer's end.
Run once per engine thread count (``--threads``): on a 2-core machine, 2 threads give the
engine both cores, 1 leaves one to the gateway and the clients.

Run with ``.venv/bin/python bench/bench_parallel.py [--rounds N] [--threads 1 2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import tempfile
import time

import httpx
from serving import engine_of, serve

from lexitui.storage.starter import STARTER_ID

PROMPTS = (
    "Write a long story about a lighthouse keeper.",
    "Describe a journey across a desert in detail.",
    "Explain how a steam engine works, step by step.",
    "Write a long letter from a sailor to his family.",
)
MAX_TOKENS = 96
SLOTS = 4


def serve_slots(threads: int) -> tuple[subprocess.Popen[str], str]:
    proc, base_url = serve("--parallel", str(SLOTS), "--threads", str(threads), "--ctx", "4096")
    return proc, base_url + "/chat/completions"


def engine_chat(proc: subprocess.Popen[str]) -> tuple[str, dict[str, str]]:
    """The engine's own chat URL and the header with its secret."""
    endpoint, headers = engine_of(proc)
    # llama.cpp closes the connection after a streamed answer: ask for that up front.
    return endpoint + "/v1/chat/completions", {**headers, "Connection": "close"}


async def answer(client: httpx.AsyncClient, url: str, prompt: str) -> int:
    """Stream one answer; its completion tokens."""
    body = {
        "model": STARTER_ID,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": MAX_TOKENS,
        "temperature": 0,
        "seed": 7,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    tokens = 0
    async with client.stream("POST", url, json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith("data:") and not line.endswith("[DONE]"):
                usage = json.loads(line[5:]).get("usage")
                tokens = int(usage["completion_tokens"]) if usage else tokens
    return tokens


async def aggregate(client: httpx.AsyncClient, url: str, clients: int) -> float:
    started = time.perf_counter()
    counts = await asyncio.gather(*(answer(client, url, PROMPTS[i]) for i in range(clients)))
    return sum(counts) / (time.perf_counter() - started)


async def measure(threads: int, rounds: int) -> dict[str, tuple[float, float]]:
    """Per path (through the gateway, the engine directly): 1-client and 4-client tokens/s."""
    proc, gateway = serve_slots(threads)
    try:
        engine, auth = engine_chat(proc)
        limits = httpx.Limits(max_connections=SLOTS)
        speeds: dict[str, tuple[float, float]] = {}
        for name, url, headers in (("gateway", gateway, {}), ("engine", engine, auth)):
            async with httpx.AsyncClient(timeout=None, limits=limits, headers=headers) as client:
                await aggregate(client, url, SLOTS)  # warm-up
                one: list[float] = []
                four: list[float] = []
                for _ in range(rounds):
                    one.append(await aggregate(client, url, 1))
                    four.append(await aggregate(client, url, SLOTS))
            speeds[name] = statistics.median(one), statistics.median(four)
        return speeds
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    rows = [
        f"| engine threads, path (median of {args.rounds}) | 1 client tokens/s | "
        f"{SLOTS} clients tokens/s (sum) | ratio |",
        "|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as home:
        os.environ["LEXITUI_HOME"] = home
        for threads in args.threads:
            for path, (one, four) in asyncio.run(measure(threads, args.rounds)).items():
                where = "`lexitui serve`" if path == "gateway" else "engine directly"
                rows.append(f"| {threads}, {where} | {one:.1f} | {four:.1f} | {four / one:.2f}x |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()

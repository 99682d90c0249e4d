"""What ``lexitui serve`` adds to a request, against the same engine asked directly.

``lexitui serve --model STARTER`` runs in its own process, as users run it (engine with one
thread, so the other core is the gateway's and the client's); the engine's own endpoint and its
secret come from the state file the serving process writes (what ``lexitui ps`` reads). One
client thread alternates the two: a non-streaming ``POST /v1/chat/completions`` for a 1-token
answer, so the engine's own work is as small as it gets and the difference is the gateway's.
The added latency is the paired difference (each gateway request minus the direct one next to
it); goal p50 <= 5 ms. The serving process's own CPU time per request is printed too: on a
loaded machine it is the steadier figure.

Run with ``.venv/bin/python bench/bench_gateway_overhead.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import tempfile
import time

import httpx
import psutil
from serving import engine_of, serve

from lexitui.storage.starter import STARTER_ID

BODY = {
    "model": STARTER_ID,
    "messages": [{"role": "user", "content": "Say hi."}],
    "max_tokens": 1,
    "temperature": 0,
    "seed": 7,
}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(client: httpx.Client, url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    response = client.post(url, json=BODY, headers=headers)
    response.raise_for_status()
    assert response.json()["choices"][0]["message"] is not None
    return (time.perf_counter() - started) * 1000


def cpu_seconds(pid: int) -> float:
    """The serving process's own CPU time (its engine is a child process, not counted)."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def measure(rounds: int) -> tuple[dict[str, list[float]], float]:
    """Latencies per path, and the serving process's CPU ms per gateway request."""
    proc, gateway = serve("--threads", "1", "--ctx", "2048")
    try:
        engine, auth = engine_of(proc)
        paths = {
            "direct": (engine + "/v1/chat/completions", auth),
            "gateway": (gateway + "/chat/completions", {}),
        }
        latency: dict[str, list[float]] = {"direct": [], "gateway": []}
        with httpx.Client(timeout=None) as client:
            for _warm in range(5):
                for url, headers in paths.values():
                    timed(client, url, headers)
            cpu_before = cpu_seconds(proc.pid)
            for i in range(rounds):
                order = list(paths.items())[:: 1 if i % 2 else -1]
                for name, (url, headers) in order:
                    latency[name].append(timed(client, url, headers))
            time.sleep(0.5)  # the last request's background writes
            cpu_ms = (cpu_seconds(proc.pid) - cpu_before) * 1000 / rounds
        return latency, cpu_ms
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["LEXITUI_HOME"] = home
        latency, cpu_ms = measure(args.rounds)
    added = [g - d for g, d in zip(latency["gateway"], latency["direct"], strict=True)]
    rows = [
        f"| non-streaming, 1 token ({args.rounds} each, alternating) | p50 ms | p95 ms |",
        "|---|---|---|",
        *(
            f"| {label} | {pct(latency[name], 0.5):.2f} | {pct(latency[name], 0.95):.2f} |"
            for name, label in (("direct", "engine directly"), ("gateway", "`lexitui serve`"))
        ),
        f"| added by the gateway (paired) | {pct(added, 0.5):+.2f} | {pct(added, 0.95):+.2f} |",
        "",
        f"mean added {statistics.mean(added):+.2f} ms; the gateway process used "
        f"{cpu_ms:.2f} ms of CPU per request",
    ]
    print("\n".join(rows))


if __name__ == "__main__":
    main()

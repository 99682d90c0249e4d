"""The inference runtime's figures, side by side in one run:

1. Streaming through lexitui (``InferenceManager.stream``: queue, events, parsing, metrics) versus
   a bare httpx SSE loop to the same engine, alternating so cache effects and noise hit both
   alike. Both are timed the same way, on the client: TTFT from sending to the first token,
   tokens/s from the first token to the last. Goals: ratio >= 0.97, added TTFT <= 5 ms.
2. Load time of the starter model: cold (its pages dropped from the page cache first with
   ``posix_fadvise(DONTNEED)``) and warm (loaded again at once).
3. The resource monitor's cost while generating: tokens/s with the monitor sampling at its
   default rate (1 s) and at ten times it (100 ms, to make any cost visible) versus not running.

Run with ``make bench`` or ``.venv/bin/python bench/bench_runtime.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from lexitui.config import Paths
from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.domain.inference import LocalGenerationRequest
from lexitui.runtime.request_body import request_body
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID

ROUNDS = 12
LOADS = 3
# One engine thread on this 2-core machine: the other core is the client's, so the comparison
# measures lexitui's own cost rather than which client steals more CPU from the engine.
OPTIONS = ModelLoadOptions(context_length=2048, threads=1, embedding=True)
REQUEST = LocalGenerationRequest(
    messages=(LocalChatMessage(ChatRole.USER, "Write three sentences about the sea."),),
    max_tokens=96,
    temperature=0.0,
    seed=7,
)


async def direct(client: httpx.AsyncClient) -> tuple[float, float]:
    body = request_body(REQUEST, STARTER_ID, stream=True)
    started = time.perf_counter()
    first = last = 0.0
    tokens = 0
    # The header lexitui sends too: llama.cpp closes the connection after a streamed answer.
    headers = {"Connection": "close"}
    async with client.stream("POST", "/v1/chat/completions", json=body, headers=headers) as resp:
        async for line in resp.aiter_lines():
            if not line.startswith("data:") or line.endswith("[DONE]"):
                continue
            for choice in json.loads(line[5:]).get("choices", []):
                if (choice.get("delta") or {}).get("content"):
                    last = time.perf_counter()
                    first = first or last
                    tokens += 1
    return (first - started) * 1000, (tokens - 1) / (last - first)


async def through_lexitui(services: Services) -> tuple[float, float]:
    started = time.perf_counter()
    first = last = 0.0
    tokens = 0
    async for chunk in services.runtime.stream(REQUEST):
        if chunk.text:
            last = time.perf_counter()
            first = first or last
            tokens += 1
    return (first - started) * 1000, (tokens - 1) / (last - first)


async def streaming(services: Services) -> list[str]:
    engine = services.runtime.engine()
    url = engine.endpoint
    headers = engine.supervisor.auth_headers if engine.supervisor else {}
    ours: list[tuple[float, float]] = []
    raw: list[tuple[float, float]] = []
    async with httpx.AsyncClient(base_url=url, timeout=None, headers=headers) as client:
        await direct(client)  # warm-up: prompt cache and allocator
        for i in range(ROUNDS):
            for lexitui_first in [False, True] if i % 2 else [True, False]:
                if lexitui_first:
                    ours.append(await through_lexitui(services))
                else:
                    raw.append(await direct(client))
    ttft_raw, ttft_ours = (statistics.median(t for t, _ in x) for x in (raw, ours))
    tps_raw, tps_ours = (statistics.median(s for _, s in x) for x in (raw, ours))
    return [
        f"| path (median of {ROUNDS}) | TTFT ms | tokens/s |",
        "|---|---|---|",
        f"| direct HTTP to the engine | {ttft_raw:.1f} | {tps_raw:.1f} |",
        f"| `InferenceManager.stream` | {ttft_ours:.1f} | {tps_ours:.1f} |",
        f"| added / ratio | {ttft_ours - ttft_raw:+.1f} ms | {tps_ours / tps_raw:.3f} |",
    ]


def drop_from_page_cache(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


async def load_times(services: Services) -> list[str]:
    path = Path((await services.registry.get(STARTER_ID)).path)
    cold: list[float] = []
    warm: list[float] = []
    for _ in range(LOADS):
        await services.runtime.unload_all()
        drop_from_page_cache(path)
        for bucket in (cold, warm):
            started = time.perf_counter()
            await services.runtime.load(STARTER_ID, OPTIONS)
            bucket.append(time.perf_counter() - started)
            if bucket is cold:
                await services.runtime.unload_all()
    return [
        f"| starter model load (median of {LOADS}) | seconds |",
        "|---|---|",
        f"| cold (dropped from page cache) | {statistics.median(cold):.2f} |",
        f"| warm | {statistics.median(warm):.2f} |",
    ]


async def monitor_overhead(services: Services) -> list[str]:
    monitor = services.resources
    runs: dict[float | None, list[float]] = {None: [], 1.0: [], 0.1: []}
    for i in range(ROUNDS):
        order = list(runs) if i % 2 else list(reversed(runs))
        for interval in order:
            if interval is not None:
                monitor.interval_s = interval
                monitor.start()
            runs[interval].append((await through_lexitui(services))[1])
            if interval is not None:
                await monitor.stop()
    base = statistics.median(runs[None])
    rows = [
        f"| resource monitor while generating (median of {ROUNDS}) | tokens/s | ratio |",
        "|---|---|---|",
        f"| not sampling | {base:.1f} | 1 |",
    ]
    for interval in (1.0, 0.1):
        tps = statistics.median(runs[interval])
        rows.append(f"| sampling every {interval:g} s | {tps:.1f} | {tps / base:.3f} |")
    return rows


async def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["LEXITUI_HOME"] = home
        services = Services.build(Paths.from_env())
        await services.start()
        try:
            await services.runtime.load(STARTER_ID, OPTIONS)
            tables = [await streaming(services), await monitor_overhead(services)]
            tables.append(await load_times(services))
        finally:
            await services.stop()
    print("\n\n".join("\n".join(t) for t in tables))


if __name__ == "__main__":
    asyncio.run(main())

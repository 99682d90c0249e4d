"""Tokens/s and time to first token: lexitui's chat path versus a direct HTTP request.

One engine, one prompt, alternating the two paths so cache effects and machine noise hit both
alike. The direct path is a bare httpx SSE loop; lexitui's path is ``RuntimeService.chat``
(registry, events, parsing). Prints medians and the ratio (goal >= 0.97, added TTFT <= 5 ms).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time

import httpx

from lexitui.config import Paths
from lexitui.domain.enums import ChatRole
from lexitui.runtime.chat import ChatFinished, ChatMessage, GenerationParams
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID

ROUNDS = 8
PROMPT = "Write three sentences about the sea."
PARAMS = GenerationParams(max_tokens=96, temperature=0.0, seed=7)


async def direct(base_url: str) -> tuple[float, float]:
    body = {
        "messages": [{"role": "user", "content": PROMPT}],
        "stream": True,
        "stream_options": {"include_usage": True},
        **PARAMS.as_json(),
    }
    async with httpx.AsyncClient(base_url=base_url, timeout=None) as client:
        started = time.perf_counter()
        first = last = 0.0
        tokens = 0
        async with client.stream("POST", "/v1/chat/completions", json=body) as resp:
            async for line in resp.aiter_lines():
                if not line.startswith("data:") or line.endswith("[DONE]"):
                    continue
                event = json.loads(line[5:])
                tokens = (event.get("usage") or {}).get("completion_tokens", tokens)
                for choice in event.get("choices", []):
                    if (choice.get("delta") or {}).get("content"):
                        last = time.perf_counter()
                        first = first or last
    return (first - started) * 1000, (tokens - 1) / (last - first)


async def through_lexitui(services: Services) -> tuple[float, float]:
    messages = [ChatMessage(ChatRole.USER, PROMPT)]
    async for piece in services.runtime.chat(messages, PARAMS):
        if isinstance(piece, ChatFinished):
            return piece.ttft_ms, piece.tokens_per_second
    raise RuntimeError("no answer")


async def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["LEXITUI_HOME"] = home
        services = Services.build(Paths.from_env())
        await services.start()
        try:
            await services.runtime.load(STARTER_ID)
            url = services.runtime.engine_url
            assert url
            await direct(url)  # warm-up
            ours: list[tuple[float, float]] = []
            raw: list[tuple[float, float]] = []
            for i in range(ROUNDS):
                if i % 2:
                    raw.append(await direct(url))
                    ours.append(await through_lexitui(services))
                else:
                    ours.append(await through_lexitui(services))
                    raw.append(await direct(url))
        finally:
            await services.stop()
    ttft_raw = statistics.median(t for t, _ in raw)
    ttft_ours = statistics.median(t for t, _ in ours)
    tps_raw = statistics.median(s for _, s in raw)
    tps_ours = statistics.median(s for _, s in ours)
    print(f"| path (median of {ROUNDS}) | TTFT ms | tokens/s |")
    print("|---|---|---|")
    print(f"| direct HTTP | {ttft_raw:.1f} | {tps_raw:.1f} |")
    print(f"| lexitui chat path | {ttft_ours:.1f} | {tps_ours:.1f} |")
    print(f"| ratio / added | +{ttft_ours - ttft_raw:.1f} ms | {tps_ours / tps_raw:.3f} |")


if __name__ == "__main__":
    asyncio.run(main())

"""Search latency: a Hugging Face search answered by the Hub versus the same search from cache.

The Hub is the local fake (``tests/fakes``) on loopback, so the uncached figure is a floor: on
the real Hub add the network round trips. The cached figure is what a repeated search, paging
back, or an offline start costs (goal < 20 ms; the roadmap asks < 200 ms).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lexitui.discovery.huggingface import HuggingFaceRegistry
from lexitui.domain.discovery import ModelSearchQuery
from lexitui.store import Store
from lexitui.store.search_cache import RegistryCache
from tests.fakes.hub_server import FakeHub

RUNS = 21
QUERIES = [ModelSearchQuery(query=q, only_gguf=True) for q in ("llama", "qwen", "mistral", None)]


async def timed(registry: HuggingFaceRegistry, query: ModelSearchQuery) -> float:
    started = time.perf_counter()
    await registry.search(query)
    return (time.perf_counter() - started) * 1000


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeHub() as hub:
            os.environ["HF_ENDPOINT"] = hub.base_url
            os.environ.pop("HF_TOKEN", None)
            store = Store(Path(tmp) / "bench.db")
            await store.open()
            try:
                fresh_ms, cached_ms = [], []
                for run in range(RUNS):
                    # A new cache key each run: the query text differs, the Hub answers.
                    query = ModelSearchQuery(query=f"llama{run % 3 or ''}", skip=run)
                    registry = HuggingFaceRegistry(RegistryCache(store))
                    fresh_ms.append(await timed(registry, query))
                    cached_ms.append(await timed(registry, query))
                for query in QUERIES:
                    await timed(registry, query)
                hub_calls = len(hub.hub_calls("/api/models"))
            finally:
                await store.close()
    fresh, cached = statistics.median(fresh_ms), statistics.median(cached_ms)
    print(f"| search (median of {RUNS}, loopback fake Hub) | ms |")
    print("|---|---|")
    print(f"| answered by the Hub | {fresh:.1f} |")
    print(f"| from the store's cache | {cached:.1f} (max {max(cached_ms):.1f}) |")
    print(f"| ratio | {fresh / cached:.1f}x |")
    print(f"\n{hub_calls} Hub listing requests for {RUNS * 2 + len(QUERIES)} searches.")


if __name__ == "__main__":
    asyncio.run(main())

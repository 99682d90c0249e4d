"""What the dashboard and the Routing area pay to read a period's figures. Prints a table.

A store of 20,000 routed requests (one every 30 s: a busy gateway's week), half local, half cloud,
all priced; then the median wall time of ``stats`` over the last day plus ``savings`` over the
last week, the two reports the dashboard reads whenever ``routed_requests`` changes. SQLite sums
them (``store/routed_totals.py``); compare against an older checkout by running this script with
that checkout first on ``PYTHONPATH``.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from lexitui.domain.routing import RoutedRequestRecord, RoutingStrategy
from lexitui.store import Store
from lexitui.store.routed_requests import RoutedRequestRows

REQUESTS = 20_000
RUNS = 9


def request(i: int, now: datetime) -> RoutedRequestRecord:
    local = i % 2 == 0
    return RoutedRequestRecord(
        request_id=f"r{i}",
        provider_id="local" if local else "openai",
        model_id="smollm2" if local else "gpt-4o-mini",
        is_local=local,
        strategy=RoutingStrategy.PREFER_LOCAL,
        reason="bench",
        cost_usd=None if local else Decimal("0.00012"),
        avoided_usd=Decimal("0.0002") if local else None,
        electricity_usd=Decimal("0.00001") if local else None,
        completion_tokens=10,
        latency_ms=100.0,
        created_at=now - timedelta(seconds=30 * i),
    )


async def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        store = Store(Path(home) / "lexitui.sqlite")
        await store.open()
        try:
            rows = RoutedRequestRows(store)
            now = datetime.now(UTC)
            for i in range(REQUESTS):
                await rows.add(request(i, now))
            times = []
            for _ in range(RUNS):
                start = time.perf_counter()
                await rows.stats(timedelta(days=1), now=now)
                await rows.savings(timedelta(days=7), "openai:gpt-4o-mini", now=now)
                times.append((time.perf_counter() - start) * 1000)
        finally:
            await store.close()
    print(f"| routing reports, {REQUESTS} requests in the week | median ms |")
    print("|---|---|")
    print(f"| `stats` (last day) + `savings` (last week) | {statistics.median(times):.1f} |")


if __name__ == "__main__":
    asyncio.run(main())

"""A read cancelled half-way (a screen's refresh replaced by a newer one) leaves the store's
reader as it was: the next read sees everything committed since, never an old snapshot."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from lexitui.store import Store

ROWS = 20_000


async def test_reads_after_cancelled_reads_see_every_commit(tmp_path: Path) -> None:
    store = Store(tmp_path / "lexitui.db")
    await store.open()
    try:
        async with store.write() as conn:
            await conn.execute("CREATE TABLE numbers (n INTEGER)")
            await conn.executemany("INSERT INTO numbers VALUES (?)", [(i,) for i in range(ROWS)])
        stale = []
        for i in range(60):
            read = asyncio.create_task(store.fetch_all("SELECT n FROM numbers"))
            await asyncio.sleep(0.0005 * (i % 7))  # cancelled at every stage of the read
            read.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await read
            async with store.write() as conn:
                await conn.execute("INSERT INTO numbers VALUES (-1)")
            [(count,)] = await store.fetch_all("SELECT count(*) FROM numbers")
            if count != ROWS + i + 1:
                stale.append((i, count))
        assert stale == [], "reads after a cancelled read saw an old snapshot"
    finally:
        await store.close()

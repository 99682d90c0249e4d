"""The store's change marker: triggers bump a version per shown table on every write, and the
watcher turns a moved version into one ``StoreChanged`` naming the table, whichever process
wrote, and says nothing while nothing changed."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lexitui.events import EventBus, StoreChanged
from lexitui.store import Store
from lexitui.store.changes import StoreChangeWatcher
from lexitui.store.migrations import WATCHED_TABLES
from tests.waiting import until

INSERT_EVENT = "INSERT INTO events (ts, kind, details) VALUES ('2026-01-01T00:00:00', 'X', '{}')"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = Store(tmp_path / "db.sqlite")
    await opened.open()
    yield opened
    await opened.close()


def record_event_in_another_process(path: Path) -> None:
    """A second lexitui process, through the store's own API, records one event and exits."""
    script = textwrap.dedent(
        f"""
        import asyncio
        from datetime import UTC, datetime
        from pathlib import Path
        from lexitui.store import Store

        async def main() -> None:
            store = Store(Path({str(path)!r}))
            await store.open()
            await store.record_event("Elsewhere", {{}}, datetime.now(UTC))
            await store.close()

        asyncio.run(main())
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


async def test_every_kind_of_write_moves_its_tables_version_only(store: Store) -> None:
    before = await store.table_versions()
    assert set(before) == set(WATCHED_TABLES)
    async with store.write() as conn:
        await conn.execute(INSERT_EVENT)
    async with store.write() as conn:
        await conn.execute("UPDATE events SET kind = 'Y'")
    async with store.write() as conn:
        await conn.execute("DELETE FROM events")
    after = await store.table_versions()
    assert after["events"] == before["events"] + 3
    assert {k: v for k, v in after.items() if k != "events"} == {
        k: v for k, v in before.items() if k != "events"
    }


async def test_a_write_by_another_process_is_one_event_naming_its_table(
    store: Store, tmp_path: Path
) -> None:
    bus = EventBus()
    heard: list[StoreChanged] = []
    bus.of(StoreChanged).subscribe(heard.append)
    watcher = StoreChangeWatcher(store, bus)
    assert await watcher.check() == frozenset()  # where watching starts

    assert await watcher.check() == frozenset()
    assert heard == []  # nothing written: nothing said

    await asyncio.to_thread(record_event_in_another_process, tmp_path / "db.sqlite")
    assert await watcher.check() == {"events"}
    assert await watcher.check() == frozenset()
    assert [event.tables for event in heard] == [frozenset({"events"})]


async def test_the_running_watcher_tells_a_write_once_and_stops_cleanly(
    store: Store, tmp_path: Path
) -> None:
    bus = EventBus()
    heard: list[StoreChanged] = []
    bus.of(StoreChanged).subscribe(heard.append)
    watcher = StoreChangeWatcher(store, bus, interval_s=0.02)
    watcher.start()
    try:
        await until(lambda: watcher._seen is not None)
        other = Store(tmp_path / "db.sqlite")  # another connection, as another process has
        await other.open()
        try:
            async with other.write() as conn:
                await conn.execute(INSERT_EVENT)
                await conn.execute(INSERT_EVENT)
        finally:
            await other.close()
        await until(lambda: bool(heard))
        for _ in range(3):  # read again a few times after: nothing new to tell
            settled = watcher._seen
            await until(lambda settled=settled: watcher._seen is not settled)
    finally:
        await watcher.stop()
    assert not watcher.running
    assert [event.tables for event in heard] == [frozenset({"events"})]

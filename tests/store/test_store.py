"""The store: migrations, reopening, concurrent writers, and crash safety."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lexitui.store import Store, StoreError
from lexitui.store.migrations import SCHEMA_VERSION


async def table_names(store: Store) -> set[str]:
    rows = await store.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {r[0] for r in rows}


async def test_migrates_an_empty_database_to_the_latest_schema(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    await store.open()
    try:
        assert await store.user_version() == SCHEMA_VERSION
        assert {"events", "installed_models", "conversations", "messages"} <= await table_names(
            store
        )
        journal = await store.fetch_all("PRAGMA journal_mode")
        assert journal[0][0] == "wal"
        fks = await store.fetch_all("PRAGMA foreign_keys")
        assert fks[0][0] == 1
    finally:
        await store.close()


async def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    store = Store(path)
    await store.open()
    async with store.write() as conn:
        await conn.execute(
            "INSERT INTO events (ts, kind, details) VALUES ('2026-01-01T00:00:00', 'X', '{}')"
        )
    await store.close()

    again = Store(path)
    await again.open()
    try:
        rows = await again.fetch_all("SELECT kind FROM events")
        assert [r[0] for r in rows] == ["X"]
        assert await again.user_version() == SCHEMA_VERSION
    finally:
        await again.close()


async def test_upgrades_a_database_left_at_an_older_version(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    store = Store(path)
    await store.open()
    # Simulate a database written by a release that only had the first migration.
    later_tables = await table_names(store) - {"events", "installed_models", "sqlite_sequence"}
    async with store.write() as conn:
        # Children before parents (messages reference conversations).
        for name in sorted(later_tables, key=lambda t: t != "messages"):
            await conn.execute(f"DROP TABLE {name}")
        await conn.execute("PRAGMA user_version = 1")
    await store.close()

    store = Store(path)
    await store.open()
    try:
        assert await store.user_version() == SCHEMA_VERSION
        assert later_tables <= await table_names(store)
        assert {"messages", "hardware_samples", "downloads"} <= later_tables
    finally:
        await store.close()


async def test_refuses_a_database_from_a_newer_release(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    store = Store(path)
    await store.open()
    async with store.write() as conn:
        await conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    await store.close()
    before = set(threading.enumerate())
    refused = Store(path)
    with pytest.raises(StoreError, match="newer lexitui"):
        await refused.open()
    assert refused._conn is None
    # The connection's worker thread is gone, so the process can still exit after the error.
    await asyncio.sleep(0.1)
    assert [t for t in set(threading.enumerate()) - before if t.is_alive()] == []


async def test_a_failed_write_rolls_back(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    await store.open()
    try:
        with pytest.raises(RuntimeError):
            async with store.write() as conn:
                await conn.execute(
                    "INSERT INTO events (ts, kind, details) VALUES ('t', 'half', '{}')"
                )
                raise RuntimeError("boom")
        assert await store.fetch_all("SELECT * FROM events") == []
    finally:
        await store.close()


async def test_two_connections_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    first, second = Store(path), Store(path)
    await first.open()
    await second.open()

    async def writer(store: Store, name: str) -> None:
        for i in range(40):
            async with store.write() as conn:
                # Read-then-write inside one transaction: the case a deferred BEGIN gets wrong.
                async with conn.execute("SELECT COUNT(*) FROM events") as cur:
                    row = await cur.fetchone()
                assert row is not None
                await conn.execute(
                    "INSERT INTO events (ts, kind, details) VALUES (?, ?, ?)",
                    (str(row[0]), name, str(i)),
                )

    try:
        await asyncio.gather(writer(first, "a"), writer(second, "b"))
        rows = await first.fetch_all("SELECT kind, COUNT(*) FROM events GROUP BY kind")
        assert {r[0]: r[1] for r in rows} == {"a": 40, "b": 40}
    finally:
        await first.close()
        await second.close()


async def test_many_coroutines_share_one_connection_safely(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    await store.open()

    async def write(i: int) -> None:
        async with store.write() as conn:
            await conn.execute("INSERT INTO events (ts, kind, details) VALUES ('t', 'k', ?)", (i,))
            await asyncio.sleep(0)  # hand the loop to the other writers mid-transaction
            await conn.execute("INSERT INTO events (ts, kind, details) VALUES ('t', 'k', ?)", (i,))

    try:
        await asyncio.gather(*(write(i) for i in range(20)))
        rows = await store.fetch_all("SELECT COUNT(*) FROM events")
        assert rows[0][0] == 40
    finally:
        await store.close()


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from lexitui.store import Store

    async def main():
        store = Store(Path(sys.argv[1]))
        await store.open()
        print("open", flush=True)
        i = 0
        while True:
            async with store.write() as conn:
                for _ in range(50):
                    await conn.execute(
                        "INSERT INTO events (ts, kind, details) VALUES (?, 'load', ?)",
                        (str(i), "x" * 500),
                    )
                    i += 1

    asyncio.run(main())
    """
)


async def test_kill_9_during_writes_leaves_a_sound_database(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "open"
    time.sleep(0.7)  # let it commit many transactions and be mid-way through another
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    store = Store(path)
    await store.open()
    try:
        assert await store.integrity_check() == "ok"
        rows = await store.fetch_all("SELECT COUNT(*) FROM events")
        count = rows[0][0]
        assert count > 0
        # Only whole transactions survive: every committed batch holds exactly 50 rows.
        assert count % 50 == 0
    finally:
        await store.close()


async def test_a_write_cancelled_while_it_begins_leaves_no_open_transaction(
    tmp_path: Path,
) -> None:
    """A task cancelled at BEGIN (a monitor stopped mid-sample) must not wedge later writes."""
    store = Store(tmp_path / "db.sqlite")
    await store.open()
    try:
        for _ in range(20):
            task = asyncio.create_task(store.record_event("probe", {}, datetime.now(UTC)))
            await asyncio.sleep(0)  # the task is now awaiting BEGIN IMMEDIATE on the thread
            await asyncio.sleep(0)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await store.record_event("after", {}, datetime.now(UTC))
        rows = await store.fetch_all("SELECT COUNT(*) FROM events WHERE kind = 'after'")
        assert rows[0][0] == 20
    finally:
        await store.close()


async def test_a_read_never_sees_a_write_before_it_commits(tmp_path: Path) -> None:
    store = Store(tmp_path / "lexitui.db")
    await store.open()
    try:
        count = "SELECT COUNT(*) FROM events WHERE kind = 'probe'"
        with contextlib.suppress(RuntimeError):
            async with store.write() as conn:
                await conn.execute(
                    "INSERT INTO events (ts, kind, details) VALUES ('t', 'probe', '{}')"
                )
                # Another coroutine reads while the transaction is open across this await.
                assert (await store.fetch_all(count))[0][0] == 0
                raise RuntimeError("roll it back")
        assert (await store.fetch_all(count))[0][0] == 0  # rolled back: it never existed
        await store.record_event("probe", {}, datetime.now(UTC))
        assert (await store.fetch_all(count))[0][0] == 1  # committed: read at once
    finally:
        await store.close()

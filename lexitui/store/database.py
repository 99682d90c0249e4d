"""The one long-lived SQLite connection lexitui owns.

Settings chosen for safety with several lexitui instances on one database: WAL so readers never
block the writer, a busy timeout so a second writer waits instead of failing, foreign keys on, and
every write transaction opened with ``BEGIN IMMEDIATE`` — a deferred transaction that reads and
then writes fails at once with "database is locked" when another instance wrote in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from lexitui.store.migrations import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 5000


class StoreError(RuntimeError):
    """The database cannot be opened or used; the message says which file and why."""


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: aiosqlite.Connection | None = None
        # One connection is shared by every coroutine: without this lock a second writer's
        # BEGIN would land inside the first one's transaction and fail.
        self._write_lock = asyncio.Lock()

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = await aiosqlite.connect(self.path, isolation_level=None)
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA synchronous = NORMAL")
        except Exception as exc:  # sqlite3 raises several types for a bad file
            raise StoreError(f"cannot open database {self.path}: {exc}") from exc
        conn.row_factory = aiosqlite.Row
        self._conn = conn
        try:
            await self._migrate()
        except BaseException:
            # A half-opened store must not keep its connection thread alive: that thread would
            # stop the process from exiting after the error is shown.
            await self.close()
            raise

    async def close(self) -> None:
        # An unclosed aiosqlite connection keeps its thread alive and blocks interpreter exit.
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()
            # close() returns once the thread took its stop order, a moment before the thread
            # ends; joining here (microseconds) means a quit never races a still-live thread.
            thread = getattr(conn, "_thread", None)
            if isinstance(thread, threading.Thread):
                thread.join(timeout=1.0)

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StoreError("store is not open")
        return self._conn

    async def user_version(self) -> int:
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def _migrate(self) -> None:
        current = await self.user_version()
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer lexitui (schema {current} > {SCHEMA_VERSION})"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            async with self.write() as conn:
                # Re-check inside the lock: another instance may have upgraded meanwhile.
                async with conn.execute("PRAGMA user_version") as cur:
                    row = await cur.fetchone()
                if row and int(row[0]) >= version:
                    continue
                for statement in _split(MIGRATIONS[version - 1]):
                    await conn.execute(statement)
                await conn.execute(f"PRAGMA user_version = {version}")

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: ``BEGIN IMMEDIATE``, commit on success, roll back on error."""
        conn = self.conn
        async with self._write_lock:
            try:
                await conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                # Cancelled while the connection's thread still runs BEGIN: the transaction may
                # open after we stopped waiting, and every later write would then fail.
                await asyncio.shield(self._rollback_if_open())
                raise
            try:
                yield conn
            except BaseException:
                await asyncio.shield(self._rollback_if_open())
                raise
            await conn.execute("COMMIT")

    async def _rollback_if_open(self) -> None:
        # Queued behind the BEGIN on the connection's one thread, so it sees its outcome.
        with contextlib.suppress(sqlite3.OperationalError):  # "no transaction is active"
            await self.conn.execute("ROLLBACK")

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        async with self.conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def record_event(self, kind: str, details: dict[str, Any], ts: datetime) -> None:
        await self.record_events([(kind, details, ts)])

    async def record_events(self, events: Sequence[tuple[str, dict[str, Any], datetime]]) -> None:
        """Several events in one transaction: one commit instead of one per event."""
        rows = [
            (ts.astimezone(UTC).isoformat(), kind, json.dumps(details, default=str))
            for kind, details, ts in events
        ]
        async with self.write() as conn:
            await conn.executemany("INSERT INTO events (ts, kind, details) VALUES (?, ?, ?)", rows)

    async def integrity_check(self) -> str:
        rows = await self.fetch_all("PRAGMA integrity_check")
        return str(rows[0][0]) if rows else "no answer"


def _split(script: str) -> Iterable[str]:
    """Split a migration into statements (ours hold no semicolons inside strings)."""
    return (s.strip() for s in script.split(";") if s.strip())

"""The two long-lived SQLite connections lexitui owns: one writes, one reads.

Settings chosen for safety with several lexitui instances on one database: WAL so readers never
block the writer, a busy timeout so a second writer waits instead of failing, foreign keys on, and
every write transaction opened with ``BEGIN IMMEDIATE`` — a deferred transaction that reads and
then writes fails at once with "database is locked" when another instance wrote in between.

Reads (``fetch_all``) go through their own read-only connection: a write transaction stays open
across awaits, and a read on the writer's connection meanwhile would see its rows before they
are committed (or rows a rollback then takes back). WAL gives the reader the last commit.
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

from lexitui.store.decimal_sum import register as register_decimal_sum
from lexitui.store.migrations import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 5000
OPEN_RETRY_S = 0.05


class StoreError(RuntimeError):
    """The database cannot be opened or used; the message says which file and why."""


class StoreBusy(StoreError):
    """Another process held the write lock past the busy timeout: trying again later can work."""


class StoreFull(StoreError):
    """The disk under the database is full: every write fails alike until space is freed."""


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        # One connection is shared by every coroutine: without this lock a second writer's
        # BEGIN would land inside the first one's transaction and fail.
        self._write_lock = asyncio.Lock()
        # Set once a full disk has been said to the user: every write fails alike then, and
        # one line is enough (the event log stays quiet about its own losses after it).
        self.full_said = False

    async def open(self) -> None:
        """Open, set up and migrate the database, or raise StoreError (never leaving the
        connection's thread running: it would keep the process from exiting after the error).

        Another instance opening the same fresh database at the same moment may get "database is
        locked" from steps SQLite does not wait for (setting up WAL, a migration racing one
        already under way); those are tried again until the busy timeout has passed.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot open database {self.path}: {_reason(exc)}") from exc
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                await self._open_once()
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or loop.time() >= deadline:
                    raise StoreError(_open_failure(self.path, exc)) from exc
            except (sqlite3.Error, OSError, ValueError) as exc:  # several types for a bad file
                raise StoreError(_open_failure(self.path, exc)) from exc
            await asyncio.sleep(OPEN_RETRY_S)

    async def _open_once(self) -> None:
        conn = await aiosqlite.connect(
            self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
        )
        try:
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA synchronous = NORMAL")
            conn.row_factory = aiosqlite.Row
            await register_decimal_sum(conn)
            self._conn = conn
            await self._migrate()
            self._reader = await _open_reader(self.path)
        except BaseException:
            self._conn = None
            await _close_connection(conn)
            raise

    async def close(self) -> None:
        # An unclosed aiosqlite connection keeps its thread alive and blocks interpreter exit.
        if self._reader is not None:
            reader, self._reader = self._reader, None
            await _close_connection(reader)
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await _close_connection(conn)

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StoreError("store is not open")
        return self._conn

    async def user_version(self) -> int:
        rows = await self.fetch_all("PRAGMA user_version")
        return int(rows[0][0]) if rows else 0

    async def _migrate(self) -> None:
        # Read straight from the connection: a busy answer here must reach open()'s retry loop
        # as SQLite's own error, not as StoreError.
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        current = int(row[0]) if row else 0
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer lexitui (schema {current} > {SCHEMA_VERSION})"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            async with self._transaction() as conn:
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
        """A write transaction: ``BEGIN IMMEDIATE``, commit on success, roll back on error.

        A database error inside it (locked past the busy timeout, disk full, a read-only or
        damaged file) comes out as StoreError, so callers handle one type."""
        try:
            async with self._transaction() as conn:
                yield conn
        except sqlite3.OperationalError as exc:
            kind = StoreBusy if _is_busy(exc) else StoreFull if _is_full(exc) else StoreError
            raise kind(_use_failure(self.path, exc)) from exc
        except sqlite3.Error as exc:
            raise StoreError(_use_failure(self.path, exc)) from exc

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
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
        with contextlib.suppress(sqlite3.Error, ValueError):  # "no transaction is active"
            await self.conn.execute("ROLLBACK")

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        """Rows as last committed, never a write transaction's rows before its commit."""
        if self._reader is None:
            raise StoreError("store is not open")
        try:
            # One call on the connection's thread runs the query to its end, even when the
            # caller is cancelled meanwhile (a screen's refresh replaced by a newer one). A
            # cursor dropped half-read would keep its read snapshot open, and every later read
            # on this connection would see the store as it was then.
            return list(await self._reader.execute_fetchall(sql, params))
        except sqlite3.Error as exc:
            raise StoreError(_use_failure(self.path, exc)) from exc

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

    async def table_versions(self) -> dict[str, int]:
        """How many times each watched table was written (see ``migrations.WATCHED_TABLES``):
        a cheap way to learn that another process wrote, without reading its rows."""
        rows = await self.fetch_all("SELECT name, version FROM table_versions")
        return {str(row[0]): int(row[1]) for row in rows}

    async def integrity_check(self) -> str:
        rows = await self.fetch_all("PRAGMA integrity_check")
        return str(rows[0][0]) if rows else "no answer"


async def _open_reader(path: Path) -> aiosqlite.Connection:
    # Read-only, so nothing can write around the write lock; opened after the migrations so it
    # sees the schema they made.
    reader = await aiosqlite.connect(
        f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000
    )
    try:
        await reader.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await reader.execute("PRAGMA foreign_keys = ON")  # the same settings as the writer
        await register_decimal_sum(reader)
        reader.row_factory = aiosqlite.Row
    except BaseException:
        await _close_connection(reader)
        raise
    return reader


def _split(script: str) -> Iterable[str]:
    """Split a migration into statements (ours hold no semicolons inside strings). A trigger's
    body holds semicolons of its own: pieces are joined until SQLite calls the statement whole."""
    statement = ""
    for piece in script.split(";"):
        statement += piece + ";"
        if sqlite3.complete_statement(statement):
            if statement.strip(" \n;"):
                yield statement.strip()
            statement = ""
    if statement.strip(" \n;"):
        yield statement.strip()


async def _close_connection(conn: aiosqlite.Connection) -> None:
    # Closing a connection to a broken file may fail; its thread is told to stop regardless.
    with contextlib.suppress(sqlite3.Error, ValueError):
        await conn.close()
    # close() returns once the thread took its stop order, a moment before the thread ends;
    # joining here (microseconds) means a quit never races a still-live thread.
    thread = getattr(conn, "_thread", None)
    if isinstance(thread, threading.Thread) and thread.is_alive():
        thread.join(timeout=1.0)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _open_failure(path: Path, exc: BaseException) -> str:
    return f"cannot open database {path}: {_explain(exc)}"


def _is_full(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


def _use_failure(path: Path, exc: BaseException) -> str:
    return f"database {path}: {_explain(exc)}"


def _explain(exc: BaseException) -> str:
    """The error with what it means for a person, where SQLite's words say too little."""
    reason = _reason(exc)
    if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc):
        seconds = BUSY_TIMEOUT_MS // 1000
        return f"{reason} (another lexitui process kept it busy for over {seconds} s)"
    return reason

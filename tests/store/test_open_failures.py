"""A store that cannot be opened or used: every failure is one StoreError, nothing keeps running.

A damaged file, a read-only file, a full disk and a lock held past the busy timeout each end
with one error line and a non-zero exit, from ``lexitui ls`` and from the TUI alike; before,
the connection's thread stayed alive after the error and the process never exited.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lexitui.config import Paths
from lexitui.services import Services
from lexitui.store import Store, StoreError
from lexitui.store.database import BUSY_TIMEOUT_MS
from tests.e2e.tmux import TmuxSession

EXIT_TIMEOUT_S = 60  # a hang shows as this; a healthy failure takes about as long as a start


def new_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in set(threading.enumerate()) - before if t.is_alive()]


async def healthy_database(path: Path) -> bytes:
    store = Store(path)
    await store.open()
    await store.record_event("x", {}, datetime.now(UTC))
    await store.close()
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")
    return path.read_bytes()


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "garbage":
        path.write_bytes(bytes(range(256)) * 20)
    elif how == "truncated":
        path.write_bytes(data[:3000])
    else:  # the header intact, the schema page overwritten
        path.write_bytes(data[:100] + b"\xa5" * (4096 - 100) + data[4096:])


@pytest.fixture(params=["garbage", "truncated", "schema-page"])
async def damaged(request: pytest.FixtureRequest, paths: Paths) -> Path:
    paths.ensure()
    await healthy_database(paths.database)
    damage(paths.database, request.param)
    return paths.database


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` made unwritable even for root (immutable) where possible, else by mode bits."""
    immutable = shutil.which("chattr") is not None and (
        subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0
    )
    if not immutable:
        path.chmod(0o444)
    try:
        try:
            with open(path, "ab"):
                pass
        except OSError:
            pass
        else:
            pytest.skip("this file system lets us write a read-only file")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        path.chmod(0o644)


async def test_a_damaged_database_is_a_store_error_and_leaves_no_thread(damaged: Path) -> None:
    before = set(threading.enumerate())
    services = Services.build(Paths.from_env())
    with pytest.raises(StoreError, match=r"lexitui\.db"):
        await services.start()
    assert services.store._conn is None
    await asyncio.sleep(0.1)
    assert new_threads(before) == []


async def test_a_failed_start_undoes_what_started(paths: Paths) -> None:
    """Whatever fails after the store opened (here: a read-only file met by the first write),
    the store is closed again before the error reaches the caller."""
    paths.ensure()
    await healthy_database(paths.database)
    before = set(threading.enumerate())
    services = Services.build(paths)
    with read_only(paths.database), pytest.raises(StoreError, match="readonly"):
        await services.start()
    assert services.store._conn is None
    await asyncio.sleep(0.1)
    assert new_threads(before) == []


async def test_database_errors_of_every_kind_become_store_errors(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    await store.open()
    try:
        with pytest.raises(StoreError, match="no such table"):
            await store.fetch_all("SELECT * FROM nowhere")
        with pytest.raises(StoreError, match="UNIQUE"):
            async with store.write() as conn:
                await conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
                await conn.execute("INSERT INTO t VALUES ('a'), ('a')")
        # The failed transaction was rolled back; the store still works.
        assert await store.fetch_all("SELECT name FROM sqlite_master WHERE name = 't'") == []
        await store.record_event("after", {}, datetime.now(UTC))
    finally:
        await store.close()


async def test_a_write_lock_held_past_the_busy_timeout_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    await healthy_database(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    store = Store(path)
    try:
        await store.open()  # nothing to migrate: opening only reads
        started = time.monotonic()
        with pytest.raises(StoreError, match=r"locked.*another lexitui process"):
            await store.record_event("blocked", {}, datetime.now(UTC))
        assert time.monotonic() - started >= BUSY_TIMEOUT_MS / 1000 * 0.9  # it did wait
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        await store.close()


def run_lexitui(*args: str) -> tuple[int, str, float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "lexitui", *args],
        capture_output=True,
        text=True,
        timeout=EXIT_TIMEOUT_S,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    return done.returncode, done.stderr, time.monotonic() - started


def test_ls_on_a_damaged_database_exits_at_once_with_one_line(damaged: Path) -> None:
    # "At once" is within 2 s of the command being typed, Python's start included; before the fix
    # the process never exited (it runs into EXIT_TIMEOUT_S).
    code, err, took = run_lexitui("ls")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("lexitui: cannot open database") and "lexitui.db" in lines[0]
    assert took < 2.0, f"lexitui ls took {took:.1f} s to give up on a damaged database"


def test_ls_with_the_write_lock_held_by_another_process_exits_with_one_line(
    paths: Paths,
) -> None:
    paths.ensure()
    asyncio.run(healthy_database(paths.database))
    holder = sqlite3.connect(paths.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        code, err, _ = run_lexitui("ls")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "database is locked" in lines[0], err


def test_ls_on_a_read_only_database_exits_with_one_line(paths: Paths) -> None:
    paths.ensure()
    asyncio.run(healthy_database(paths.database))
    with read_only(paths.database):
        code, err, _ = run_lexitui("ls")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "readonly" in lines[0], err


@pytest.fixture
def full_disk(lexitui_home: Path) -> Iterator[Path]:
    """``LEXITUI_HOME`` on a tiny file system, filled up (needs the right to mount a tmpfs)."""
    lexitui_home.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(lexitui_home)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        Paths.from_env().ensure()
        with contextlib.suppress(OSError), open(lexitui_home / "filler", "wb") as filler:
            while True:
                filler.write(b"\0" * 4096)
                filler.flush()
        yield lexitui_home
    finally:
        subprocess.run(["umount", "-l", str(lexitui_home)], capture_output=True)


def test_ls_on_a_full_disk_exits_with_one_line(full_disk: Path) -> None:
    code, err, _ = run_lexitui("ls")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lexitui: "), err
    assert "full" in lines[0] or "No space" in lines[0], err


@pytest.mark.e2e
def test_the_tui_on_a_damaged_database_exits_with_one_line(damaged: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is required for the terminal tests", pytrace=False)
    home = Path(os.environ["LEXITUI_HOME"])
    session = TmuxSession(250, 30, home)  # wide: the long path fits one terminal line
    try:
        assert session.wait_exit(timeout=EXIT_TIMEOUT_S) == 1
        shown = [line for line in session.screen().splitlines() if line.strip()]
        assert len(shown) == 1, shown
        assert shown[0].startswith("lexitui: cannot open database")
    finally:
        session.close()

"""Events that matter later are written to the store; passing ones are not."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

import pytest

from lexitui.config import Paths
from lexitui.events import ModelDownloadProgress, ModelInstalled, ModelLoaded
from lexitui.services import Services
from lexitui.store import StoreError, database


async def test_persisted_events_reach_the_store_in_order(services: Services) -> None:
    services.bus.publish(ModelInstalled(model_id="m1", path="/models/m1.gguf", size_bytes=10))
    services.bus.publish(ModelDownloadProgress(download_id="d", bytes_done=1, bytes_total=2))
    services.bus.publish(ModelLoaded(model_id="m1", backend="embedded", load_seconds=0.5))
    await services.recorder.stop()  # drains the queue

    rows = await services.store.fetch_all("SELECT kind, details FROM events ORDER BY id")
    kinds = [r[0] for r in rows]
    assert kinds == ["ModelInstalled", "ModelLoaded"]
    assert json.loads(rows[0][1]) == {"model_id": "m1", "path": "/models/m1.gguf", "size_bytes": 10}


async def test_a_batch_the_store_refuses_does_not_stop_later_events(services: Services) -> None:
    """A write lock held past the busy timeout (or a full disk) loses that batch only: the
    recorder keeps running and records what comes after."""
    real = services.store.record_events
    calls = 0

    async def refuse_first(events: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise StoreError("database is locked")
        await real(events)

    services.store.record_events = refuse_first  # type: ignore[method-assign]
    services.bus.publish(ModelLoaded(model_id="lost", backend="embedded", load_seconds=0.5))
    for _ in range(50):
        if calls:
            break
        await asyncio.sleep(0.01)
    services.bus.publish(ModelLoaded(model_id="kept", backend="embedded", load_seconds=0.5))
    await services.recorder.stop()

    rows = await services.store.fetch_all("SELECT details FROM events WHERE kind = 'ModelLoaded'")
    assert [json.loads(r[0])["model_id"] for r in rows] == ["kept"]


async def test_a_batch_refused_for_a_busy_database_is_written_once_the_lock_is_free(
    paths: Paths, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process holding the write lock past the busy timeout delays an event; it is
    written once the lock is free, not lost with a warning."""
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 200)
    services = Services.build(paths)
    await services.start()
    holder = sqlite3.connect(paths.database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        services.bus.publish(ModelLoaded(model_id="late", backend="embedded", load_seconds=0.5))
        await asyncio.sleep(0.6)  # past the busy timeout: the first try was refused
        holder.execute("COMMIT")
        await services.recorder.stop()
        rows = await services.store.fetch_all(
            "SELECT details FROM events WHERE kind = 'ModelLoaded'"
        )
    finally:
        holder.close()
        await services.stop()
    assert [json.loads(r[0])["model_id"] for r in rows] == ["late"]
    assert "could not record" not in caplog.text


async def full_disk(services: Services) -> None:
    """SQLite's own "database or disk is full": the file may grow no further."""
    pages = (await services.store.fetch_all("PRAGMA page_count"))[0][0]
    await services.store.conn.execute(f"PRAGMA max_page_count = {pages}")


async def test_a_full_disk_is_its_own_error_and_events_lost_to_it_are_said_once(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    await full_disk(services)
    with pytest.raises(database.StoreFull, match="full"):
        async with services.store.write() as conn:
            await conn.execute(
                "INSERT INTO events (ts, kind, details) VALUES (0, 'x', ?)", ("y" * 100_000,)
            )
    for n in range(3):
        services.bus.publish(ModelLoaded(model_id=f"m{n}" * 5000, backend="e", load_seconds=0.5))
    await services.recorder.stop()
    said = [r.getMessage() for r in caplog.records if "could not record" in r.getMessage()]
    assert len(said) == 1 and "is full" in said[0], said


async def test_events_lost_to_a_full_disk_already_said_add_no_second_line(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    await full_disk(services)
    services.store.full_said = True  # a download's failure said it (see DownloadQueue.note_said)
    services.bus.publish(ModelLoaded(model_id="m" * 50_000, backend="e", load_seconds=0.5))
    await services.recorder.stop()
    assert not [r for r in caplog.records if "could not record" in r.getMessage()]

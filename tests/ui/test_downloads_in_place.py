"""Progress changes the cells of its own row: the history is not read again, the table is kept.

A real throttled download from the fake Hub runs beside rows of history in the real store. Each
progress event must update that download's progress, speed and ETA (and the detail pane when its
row is highlighted) without listing the history again or clearing the table, so the other rows
stay the very same rows. A download already running when the screen opens is read in once,
even when reading the store is slower than its ticks.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from lexitui.config import Paths
from lexitui.domain.downloads import ModelDownload
from lexitui.domain.enums import DownloadStatus
from lexitui.downloads.records import DownloadProgressEvent
from lexitui.ui.app import LexituiApp
from lexitui.ui.downloads.screen import DownloadsScreen, progress_cell
from tests.fakes.hub_server import FakeHub
from tests.ui.test_downloads_live import count_store_reads
from tests.ui.test_downloads_screen import (
    STARTER_FILE,
    STARTER_REPO,
    TINY_FILE,
    TINY_REPO,
    _app,
    open_downloads,
    row_texts,
    start,
    until_status,
)
from tests.waiting import until

HISTORY = 5


async def add_history(app: LexituiApp, count: int) -> None:
    """Finished downloads in the store, each failed with its own reason."""
    services = app.services
    details = await services.discovery.details(TINY_REPO)
    variant = next(f.variant for f in details.variants if f.variant.filename == TINY_FILE)
    ended = datetime.now(UTC) - timedelta(hours=1)
    for n in range(count):
        queued = await services.downloads.enqueue(details.model, variant)
        failed = replace(
            queued,
            status=DownloadStatus.FAILED,
            error=f"connection reset, attempt {n}",
            completed_at=ended - timedelta(minutes=n),
        )
        await services.downloads.save(failed)


def detail_text(app: LexituiApp) -> str:
    return " ".join(str(app.screen.query_one("#downloads-detail", Static).render()).split())


def shows(table: DataTable[str], event: DownloadProgressEvent) -> bool:
    return str(table.get_row_at(0)[2]) == progress_cell(event.downloaded_bytes, event.total_bytes)


async def test_progress_updates_its_cells_without_reading_the_history_or_rebuilding(
    hub: FakeHub, paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.faults.rate = 2 * 1024 * 1024  # slow enough to last the test
    app = _app(paths, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_downloads(app, pilot)
        await add_history(app, HISTORY)
        download = await start(app, STARTER_REPO, STARTER_FILE)
        await until_status(app, download.id, DownloadStatus.DOWNLOADING)
        await until(lambda: table.row_count == HISTORY + 1 and "downloading" in row_texts(table)[0])
        await pilot.pause(0.3)  # the start's own events have been handled

        manager = app.services.download_manager
        reads = count_store_reads(manager, monkeypatch)

        clears: list[bool] = []
        clear = table.clear

        def counted_clear(columns: bool = False) -> DataTable[str]:
            clears.append(columns)
            return clear(columns)

        monkeypatch.setattr(table, "clear", counted_clear)
        kept = list(table.rows.items())[1:]  # the history rows, keys and row objects
        kept_texts = row_texts(table)[1:]
        table.move_cursor(row=0)  # the running download is highlighted

        events: list[DownloadProgressEvent] = []
        subscription = manager.progress.subscribe(events.append)
        try:
            await until(lambda: len(events) >= 10, seconds=30)
            await until(lambda: shows(table, events[-1]))  # (a) its cell shows the new value
            assert f"Bytes: {events[-1].downloaded_bytes:,} of" in detail_text(app)

            table.move_cursor(row=3)  # a row of history: more progress must leave its pane alone
            await until(lambda: "attempt 2" in detail_text(app))
            seen = len(events)
            await until(lambda: len(events) >= seen + 3, seconds=30)
            await until(lambda: shows(table, events[-1]))
        finally:
            subscription.dispose()

        assert all(e.status is DownloadStatus.DOWNLOADING for e in events)
        # (b) no listing of the store and no rebuild of the table for any of these events.
        assert reads == [], f"{len(reads)} store reads for {len(events)} progress events"
        assert clears == [], f"the table was cleared {len(clears)} times"
        assert list(table.rows.items())[1:] == kept
        assert all(table.rows[key] is row for key, row in kept)
        assert row_texts(table)[1:] == kept_texts
        assert table.cursor_row == 3
        detail = detail_text(app)
        assert "Error: connection reset, attempt 2" in detail and "failed" in detail
        await manager.cancel_download(download.id)


async def test_a_download_running_before_the_screen_opens_is_read_in_once(
    hub: FakeHub, paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.faults.rate = 2 * 1024 * 1024  # a tick about every half second while it runs
    app = _app(paths, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.services_ready.wait()
        await add_history(app, HISTORY)
        download = await start(app, STARTER_REPO, STARTER_FILE)
        await until_status(app, download.id, DownloadStatus.DOWNLOADING)

        # A long history on a busy disk: listing it takes longer than the gap between ticks.
        manager = app.services.download_manager
        reads: list[int] = []
        history = manager.get_history

        async def slow_history(limit: int = 50) -> list[ModelDownload]:
            reads.append(limit)
            await asyncio.sleep(1.5)
            return await history(limit)

        monkeypatch.setattr(manager, "get_history", slow_history)
        await pilot.press("5")
        assert isinstance(app.screen, DownloadsScreen)
        table = app.screen.query_one("#downloads-table", DataTable)
        await until(lambda: table.row_count == HISTORY + 1, seconds=10)
        assert "downloading" in row_texts(table)[0]
        # More ticks: each updates the row, none reads the store.
        ticks: list[DownloadProgressEvent] = []
        subscription = manager.progress.subscribe(ticks.append)
        try:
            await until(lambda: len(ticks) >= 3, seconds=30)
            await pilot.pause()
        finally:
            subscription.dispose()
        # The screen's own first read (twice if Textual resumes it twice), and one for the
        # download it had not shown yet: not one per tick.
        assert len(reads) <= 3, f"the history was read {len(reads)} times"
        await manager.cancel_download(download.id)

"""The Downloads screen follows running downloads live and explains the ones that stopped.

Real downloads from the fake Hub: a throttled one for progress (its row is updated in place,
the store is not read again for each progress event, speed and ETA show), and a gated one that
fails without a token (its whole reason, source, bytes, attempts and what to do are shown).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from textual.content import Content
from textual.widgets import DataTable, Static

from lexitui.config import Paths
from lexitui.domain.downloads import ModelDownload
from lexitui.domain.enums import DownloadStatus
from lexitui.downloads.manager import DownloadManager
from lexitui.downloads.records import DownloadProgressEvent
from lexitui.ui.downloads.details import DownloadDetailsScreen
from lexitui.ui.downloads.screen import DownloadsScreen
from tests.fakes.hub_server import FakeHub
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


def cell(table: DataTable[str], column: int) -> str:
    return str(table.get_row_at(0)[column]) if table.row_count else ""


def speed_and_eta_shown(table: DataTable[str]) -> bool:
    return table.row_count == 1 and cell(table, 3).endswith("/s") and cell(table, 4) != ""


def count_store_reads(manager: DownloadManager, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every read of the queue or the history from now on, by name, in order."""
    reads: list[str] = []
    history, active = manager.get_history, manager.get_downloads

    async def counted_history(limit: int = 50) -> list[ModelDownload]:
        reads.append("history")
        return await history(limit)

    async def counted_active() -> list[ModelDownload]:
        reads.append("active")
        return await active()

    monkeypatch.setattr(manager, "get_history", counted_history)
    monkeypatch.setattr(manager, "get_downloads", counted_active)
    return reads


async def test_progress_updates_its_row_without_reloading_the_store(
    hub: FakeHub, paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.faults.rate = 2 * 1024 * 1024  # slow enough to last the test
    app = _app(paths, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_downloads(app, pilot)
        download = await start(app, STARTER_REPO, STARTER_FILE)
        await until_status(app, download.id, DownloadStatus.DOWNLOADING)
        await until(lambda: table.row_count == 1 and "downloading" in row_texts(table)[0])
        await pilot.pause(0.3)  # the start's own events have been handled

        manager = app.services.download_manager
        reloads = count_store_reads(manager, monkeypatch)
        events: list[DownloadProgressEvent] = []
        subscription = manager.progress.subscribe(events.append)
        try:
            before = cell(table, 2)
            await until(lambda: len(events) >= 10, seconds=30)
            await pilot.pause(0.2)
        finally:
            subscription.dispose()

        assert all(e.status is DownloadStatus.DOWNLOADING for e in events)
        assert reloads == [], f"{len(reloads)} store reloads for {len(events)} progress events"
        assert cell(table, 2) != before  # the row itself moved on
        assert speed_and_eta_shown(table), row_texts(table)
        await manager.cancel_download(download.id)


async def test_speed_and_eta_show_soon_after_a_start_and_a_resume(
    hub: FakeHub, paths: Paths, tmp_path: Path
) -> None:
    hub.faults.rate = 2 * 1024 * 1024
    app = _app(paths, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_downloads(app, pilot)
        download = await start(app, STARTER_REPO, STARTER_FILE)
        await until_status(app, download.id, DownloadStatus.DOWNLOADING)
        await until(lambda: speed_and_eta_shown(table), seconds=2)

        await pilot.press("p")
        await until_status(app, download.id, DownloadStatus.PAUSED)
        await until(lambda: "paused" in row_texts(table)[0] and cell(table, 3) == "")

        await pilot.press("u")
        await until_status(app, download.id, DownloadStatus.DOWNLOADING)
        await until(lambda: speed_and_eta_shown(table), seconds=2)
        # And they stay: later progress does not blank them again.
        ticks: list[DownloadProgressEvent] = []
        subscription = app.services.download_manager.progress.subscribe(ticks.append)
        try:
            await until(lambda: len(ticks) >= 3, seconds=30)
            await pilot.pause()
        finally:
            subscription.dispose()
        assert speed_and_eta_shown(table), row_texts(table)
        await app.services.download_manager.cancel_download(download.id)


async def test_a_failed_gated_download_says_why_where_from_and_what_to_do(
    hub: FakeHub, paths: Paths, tmp_path: Path
) -> None:
    hub.repos[TINY_REPO].gated = "auto"
    app = _app(paths, tmp_path)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        table = await open_downloads(app, pilot)
        download = await start(app, TINY_REPO, TINY_FILE)
        await until_status(app, download.id, DownloadStatus.FAILED)
        await until(lambda: table.row_count == 1 and "failed" in row_texts(table)[0])

        status = Text.from_markup(str(table.get_row_at(0)[5])).plain
        assert status == "failed"  # no reason cut to the column's width
        screen = app.screen
        assert isinstance(screen, DownloadsScreen)
        table.focus()
        detail = str(screen.query_one("#downloads-detail", Static).render())
        flat = " ".join(detail.split())
        assert "HTTP 401" in flat and "set HF_TOKEN" in flat  # the error, whole
        assert f"Source: {hub.base_url}/{TINY_REPO}/resolve/" in flat  # where it comes from
        served = hub.repos[TINY_REPO].file(TINY_FILE)
        assert served is not None
        assert f"Bytes: 0 of {served.size:,} (0%)" in flat
        assert "attempts: 1 of up to" in flat
        assert "[huggingface]" in flat and "press t to retry" in flat

        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, DownloadDetailsScreen))
        dialog = app.screen.query_one("#download-details-text", Static)
        shown = " ".join(str(dialog.render()).split())
        assert "HTTP 401" in shown and "[huggingface]" in shown
        await pilot.press("escape")
        await until(lambda: app.screen is screen)

        await pilot.press("t")
        await until(lambda: any("Retrying" in str(n.message) for n in app._notifications))
        # As the user reads it: the notification's markup rendered, "[huggingface]" kept as text.
        seen = [Content.from_markup(str(n.message)).plain for n in app._notifications]
        warned = [text for text in seen if "HF_TOKEN" in text]
        assert warned and "under [huggingface])" in warned[0], seen
        await until_status(app, download.id, DownloadStatus.FAILED)

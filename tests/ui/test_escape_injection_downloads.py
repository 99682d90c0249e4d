"""Downloads: a variant from a hostile Hub repo (its file name, the error it fails with) is shown
as text in the table and in what the screen says about it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import DataTable

from lexitui.config import Paths
from lexitui.domain.enums import DownloadStatus
from lexitui.ui.app import LexituiApp
from lexitui.ui.downloads.screen import DownloadsScreen
from tests.fakes.hub_repos_hostile import CARD_REPO
from tests.ui.hardware_machine import Machine, build_services
from tests.ui.hostile_hub import hostile_hub  # noqa: F401 (a fixture)
from tests.ui.hostile_text import assert_shown_as_text, assert_terminal_safe
from tests.waiting import until, until_answered


@pytest.mark.usefixtures("hostile_hub")
async def test_a_hostile_download_is_shown_as_text(paths: Paths, tmp_path: Path) -> None:
    machine = Machine(ram_total_gib=16, ram_available_gib=12)
    built = build_services(paths, tmp_path / "root", "nvml_0_gpus.json", machine=machine)
    # Each automatic retry fails the same way: they run without the real back-off between them.
    quick = replace(built.download_manager.settings, retry_backoff_s=0.01)
    built.download_manager.settings = quick
    app = LexituiApp(built)
    async with app.run_test(size=(220, 50)) as pilot:
        services = app.services
        await app.services_ready.wait()
        details = await services.discovery.details(CARD_REPO)
        variant = next(f.variant for f in details.variants if "FILE" in f.variant.filename)
        download = await services.download_manager.start_download(details.model, variant)

        async def failed() -> bool:
            history = await services.download_manager.get_history()
            return any(d.id == download.id and d.status is DownloadStatus.FAILED for d in history)

        await until_answered(failed, 30)
        await pilot.press("5")
        assert isinstance(app.screen, DownloadsScreen)
        table = app.screen.query_one(DataTable)
        await until(lambda: table.row_count == 1)
        await pilot.pause()
        assert_shown_as_text(app, "FILE")
        assert_terminal_safe(app)

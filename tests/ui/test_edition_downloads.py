"""The Downloads area shows the downloaded models kept and their storage against WriterPro's
limits, counted as the next download's check counts them; nothing on an unmanaged machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from lexitui.config import Paths
from lexitui.ui.downloads.screen import DownloadsScreen
from lexitui.ui.widgets.limit_pill import LimitPill
from tests.ui.edition_machine import (  # noqa: F401 (fixtures)
    authority_key,
    install,
    issue,
    laptop_app,
    managed,
    site_dir,
    text_of,
    writerpro,
)
from tests.waiting import until


async def open_downloads(
    paths: Paths, tmp_path: Path, starter_path: Path, *, shown: bool
) -> list[str]:
    app = laptop_app(paths, tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.services_ready.wait()
        # A model that came from the Hub (its row's source says so), as `lexitui pull` leaves it.
        await app.services.registry.add(
            "smol-q4",
            "Smol",
            starter_path,
            source="hf:QuantFactory/SmolLM2",
            registered_by_path=True,
        )
        await pilot.press("5")
        await until(lambda: isinstance(app.screen, DownloadsScreen))
        kept = app.screen.query_one("#downloads-kept", LimitPill)
        storage = app.screen.query_one("#downloads-storage", LimitPill)
        await pilot.press("r")
        await until(
            lambda: (kept.display == storage.display and bool(text_of(kept))) or not kept.display
        )
        await pilot.pause(0.3)
        return [text_of(p) for p in (kept, storage) if p.display]


@pytest.mark.usefixtures("writerpro")
async def test_writerpro_sees_the_models_kept_and_their_storage(
    paths: Paths, tmp_path: Path, starter_path: Path
) -> None:
    kept, storage = await open_downloads(paths, tmp_path, starter_path, shown=True)
    assert kept == "Downloaded models 1/3"
    assert storage.startswith("Storage ") and storage.endswith(" MB/50.0 GB")


async def test_unmanaged_downloads_show_no_limits(
    paths: Paths, tmp_path: Path, starter_path: Path
) -> None:
    assert await open_downloads(paths, tmp_path, starter_path, shown=False) == []

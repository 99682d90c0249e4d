"""The TUI shows the user's edition, never nags: the tier and licensee in every area's header,
the tier that unlocks a gated key beside it in the footer, and a refused action as one line (a
status line or a notification), never a traceback or a pop-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from textual._doc import take_svg_screenshot
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from lexitui.config import Paths
from lexitui.ui.app import LexituiApp
from lexitui.ui.commands import LexituiCommands
from lexitui.ui.discover.screen import DiscoverScreen
from lexitui.ui.runtime.screen import RuntimeScreen
from lexitui.ui.shell.area_header import EditionPill
from lexitui.ui.widgets.limit_pill import LimitPill
from tests.fakes.hub_server import FakeHub
from tests.ui.edition_machine import (  # noqa: F401 (fixtures)
    authority_key,
    edition_pill,
    footer_descriptions,
    install,
    issue,
    laptop_app,
    managed,
    site_dir,
    text_of,
    writerpro,
)
from tests.waiting import until


async def test_the_header_says_unmanaged_by_default(paths: Paths, tmp_path: Path) -> None:
    app = laptop_app(paths, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        pill = await edition_pill(app)
        assert text_of(pill) == "unmanaged"
        assert "no license authority is installed" in str(pill.tooltip)
        await pilot.press("7")  # every area: its keys carry no tier
        await until(lambda: isinstance(app.screen, RuntimeScreen))
        assert text_of(await edition_pill(app)) == "unmanaged"
        assert footer_descriptions(app)["runtime.load"] == "Load model"


@pytest.mark.usefixtures("writerpro")
async def test_the_header_names_the_tier_and_the_licensee(paths: Paths, tmp_path: Path) -> None:
    app = laptop_app(paths, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        pill = await edition_pill(app)
        assert text_of(pill) == "WriterPro · ann"
        assert "licensed to ann" in str(pill.tooltip)
        await pilot.press("7")
        await until(lambda: isinstance(app.screen, RuntimeScreen))
        assert text_of(await edition_pill(app)) == "WriterPro · ann"
        keys = footer_descriptions(app)
        # Loading is WriterPro's; saving a context snapshot is Enterprise's.
        assert keys["runtime.load"] == "Load model"
        assert keys["runtime.snapshot_save"] == "Save context [Enterprise]"


@pytest.mark.usefixtures("managed")
async def test_core_without_a_license_says_why(paths: Paths, tmp_path: Path) -> None:
    app = laptop_app(paths, tmp_path)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        pill = await edition_pill(app)
        assert text_of(pill) == "Core · no license"
        assert "no license is installed" in str(pill.tooltip)
        assert pill.has_class("-unlicensed")
        # The reason without a mouse: "License" in the command palette.
        hits = [hit async for hit in LexituiCommands(app.screen).search("license")]
        assert [hit.text for hit in hits] == ["License: Core · no license"]
        assert "no license is installed" in str(hits[0].help)
        # And with one: a click on the pill.
        await pilot.click("#edition-pill")
        await until(lambda: bool(app._notifications))
        (note,) = list(app._notifications)
        assert str(note.message).startswith("Core · no license: no license is installed")


@pytest.mark.usefixtures("managed")
async def test_core_pressing_a_gated_key_sees_the_refusal_naming_writerpro(
    hub: FakeHub, paths: Paths, tmp_path: Path
) -> None:
    app = laptop_app(paths, tmp_path)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await app.services_ready.wait()
        await pilot.press("4")
        await until(lambda: isinstance(app.screen, DiscoverScreen))
        screen = app.screen
        keys = footer_descriptions(app)
        assert keys["discover.trending"] == "Trending [WriterPro]"
        assert keys["discover.download"] == "Download variant [WriterPro]"
        status = screen.query_one("#discover-status", Static)
        await until(lambda: "needs WriterPro" in text_of(status))
        status.update("")
        await pilot.press("t")
        await until(lambda: "needs WriterPro" in text_of(status))
        assert text_of(status).startswith("Hugging Face search needs WriterPro or above")
        # No "0/0" count beside it: Core has no Hub search at all, the key says who has.
        assert not screen.query_one("#discover-usage", LimitPill).display
        assert not app._notifications  # a status line, no pop-up
        assert app.is_running and app.return_code is None
        # The Ollama library is Core's: in that mode the search keys carry no tier.
        await pilot.press("o")
        await until(lambda: footer_descriptions(app)["discover.trending"] == "Trending")


@pytest.mark.usefixtures("managed")
async def test_a_refusal_the_screen_does_not_catch_is_one_line_not_a_traceback(
    paths: Paths, tmp_path: Path
) -> None:
    app = laptop_app(paths, tmp_path)
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await app.services_ready.wait()
        await pilot.press("6")  # Models: the starter is installed; "l" loads it
        await until(lambda: app.screen.name == "models")
        table = app.screen.query_one("#models-table", DataTable)
        await until(lambda: table.row_count > 0)
        assert footer_descriptions(app)["models.load"] == "Load [WriterPro]"
        await pilot.press("l")

        def lines() -> list[str]:
            return [str(n.message) for n in app._notifications]

        await until(lambda: any("needs WriterPro" in line for line in lines()))
        refusal = next(line for line in lines() if "needs WriterPro" in line)
        assert refusal.startswith("load a model needs WriterPro or above (this user: Core")
        assert app.is_running and app.return_code is None


def _shoot(run_before: object, size: tuple[int, int] = (80, 24)) -> str:
    return take_svg_screenshot(
        app=LexituiApp(),
        terminal_size=size,
        run_before=run_before,  # type: ignore[arg-type]
    )


async def _downloads(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, LexituiApp)
    await app.services_ready.wait()
    await pilot.press("5")
    await until(lambda: app.screen.name == "downloads")
    pill = app.screen.query_one("#edition-pill", EditionPill)
    await until(lambda: bool(text_of(pill)))
    await pilot.pause(0.1)


@pytest.mark.usefixtures("writerpro")
def test_snapshot_writerpro_header(svg_snapshot: SnapshotAssertion) -> None:
    assert svg_snapshot == _shoot(_downloads)


@pytest.mark.usefixtures("managed")
def test_snapshot_core_keys_name_the_tier_that_unlocks_them(
    svg_snapshot: SnapshotAssertion,
) -> None:
    assert svg_snapshot == _shoot(_downloads, (120, 30))

"""Discover's ``d`` says what would go wrong before it queues: a gated model without a token is
refused with the reason and the way out, and a variant that does not fit asks first.

Against the fake Hub on a 16 GiB laptop without a GPU, so the verdicts are computed."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from lexitui.config import Paths
from lexitui.domain.downloads import ModelDownload
from lexitui.domain.enums import CompatibilityLevel
from lexitui.ui.app import LexituiApp
from lexitui.ui.discover.screen import DiscoverScreen
from lexitui.ui.widgets.confirm_dialog import ConfirmDialog
from tests.fakes.hub_server import GRANTED_TOKEN, FakeHub
from tests.ui.test_discover_screen import _app, _cells, open_discover, search_for
from tests.waiting import until

TINY_REPO = "lexitui-fixtures/tiny-random-llama-GGUF"


async def all_downloads(app: LexituiApp) -> list[ModelDownload]:
    manager = app.services.download_manager
    return await manager.get_downloads() + await manager.get_history()


def messages(app: LexituiApp) -> list[str]:
    return [" ".join(str(n.message).split()) for n in app._notifications]


async def show_variants(screen: DiscoverScreen, pilot: Pilot[None], query: str, model: str) -> None:
    results = screen.query_one("#discover-results", DataTable)
    await search_for(screen, pilot, query)
    await until(lambda: results.row_count >= 1 and model in _cells(results, 1)[0], seconds=20)
    results.focus()
    results.move_cursor(row=0)
    await until(lambda: screen.details is not None and screen.details.model.id == model, 20)


async def test_a_gated_model_without_a_token_is_not_queued_and_says_why(
    hub: FakeHub, paths: Paths, tmp_path: Path
) -> None:
    hub.repos[TINY_REPO].gated = "auto"
    app = _app(paths, tmp_path)
    async with app.run_test(size=(140, 45), notifications=True) as pilot:
        screen, _ = await open_discover(app, pilot)
        await show_variants(screen, pilot, "tiny-random", TINY_REPO)
        variants = screen.query_one("#discover-variants", DataTable)
        await until(lambda: variants.row_count >= 1)

        await pilot.press("v", "d")
        await until(lambda: any("gated" in m for m in messages(app)))
        said = next(m for m in messages(app) if "gated" in m)
        assert "Not queued" in said and "HF_TOKEN" in said and "[huggingface]" in said
        await pilot.pause(0.3)
        assert await all_downloads(app) == []


async def test_a_variant_that_does_not_fit_asks_before_it_is_queued(
    hub: FakeHub, paths: Paths, tmp_path: Path
) -> None:
    app = _app(paths, tmp_path)
    async with app.run_test(size=(140, 45), notifications=True) as pilot:
        screen, _ = await open_discover(app, pilot)
        await show_variants(screen, pilot, "70B", "bartowski/Meta-Llama-3.1-70B-Instruct-GGUF")
        assert screen.details is not None
        levels = [f.level for f in screen.details.variants]
        too_big = levels.index(CompatibilityLevel.INCOMPATIBLE)
        variants = screen.query_one("#discover-variants", DataTable)
        await until(lambda: variants.row_count == len(levels))

        await pilot.press("v")
        variants.move_cursor(row=too_big)
        await pilot.press("d")
        await until(lambda: isinstance(app.screen, ConfirmDialog))
        body = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "does not fit this machine" in body
        await pilot.press("n")
        await until(lambda: any("was not queued" in m for m in messages(app)))
        assert await all_downloads(app) == []

        await pilot.press("d")
        await until(lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await until(lambda: any("Queued" in m for m in messages(app)), seconds=20)
        queued = await all_downloads(app)
        assert [d.variant.filename for d in queued] == [
            screen.details.variants[too_big].variant.filename
        ]
        await app.services.download_manager.cancel_download(queued[0].id)


async def test_a_gated_model_with_a_token_is_queued(
    hub: FakeHub, paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.repos[TINY_REPO].gated = "auto"
    hub.repos[TINY_REPO].granted_users = {hub.tokens[GRANTED_TOKEN]}
    monkeypatch.setenv("HF_TOKEN", GRANTED_TOKEN)
    app = _app(paths, tmp_path)
    async with app.run_test(size=(140, 45), notifications=True) as pilot:
        screen, _ = await open_discover(app, pilot)
        await show_variants(screen, pilot, "tiny-random", TINY_REPO)
        variants = screen.query_one("#discover-variants", DataTable)
        await until(lambda: variants.row_count >= 1)
        await pilot.press("v", "d")
        await until(lambda: any("Queued" in m for m in messages(app)), seconds=20)
        assert not any("gated" in m for m in messages(app))
        queued = await all_downloads(app)
        assert len(queued) == 1
        finished = await app.services.download_manager.wait(queued[0].id)
        assert finished.error is None, finished.error

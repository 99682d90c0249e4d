"""Discover's Ollama mode (``o``) against a fake ollama.com and a fake Ollama registry: the
popular list on switching, search, a model's tags with their fit, and ``d`` pulling a tag."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest_asyncio
from syrupy.assertion import SnapshotAssertion
from textual.widgets import DataTable, Input, Static

from lexitui.config import Paths
from lexitui.discovery.ollama_library import OllamaLibraryRegistry
from lexitui.domain.enums import DownloadStatus, ModelRegistryType
from lexitui.store.search_cache import RegistryCache
from lexitui.ui.app import LexituiApp
from tests.fakes.hub_server import FakeHub
from tests.fakes.ollama_registry import FakeRegistry, add_sample_models
from tests.fakes.ollama_site import FakeOllamaSite, page
from tests.ui.test_discover_screen import _app, _cells, open_discover, search_for
from tests.waiting import until, until_answered

ONE_B = b"GGUF" + bytes(range(256)) * 64


@pytest_asyncio.fixture
async def site() -> AsyncIterator[FakeOllamaSite]:
    async with FakeOllamaSite() as fake:
        yield fake


@pytest_asyncio.fixture
async def registry() -> AsyncIterator[FakeRegistry]:
    async with FakeRegistry() as fake:
        add_sample_models(fake)
        fake.add_model("library/llama3.2", "1b", weights=ONE_B, model_type="1.2B")
        yield fake


def _library_app(
    paths: Paths, tmp_path: Path, site: FakeOllamaSite, registry: FakeRegistry
) -> LexituiApp:
    app = _app(paths, tmp_path)
    services = app.services
    # The library on the fakes: its website for browsing, its registry for the manifests.
    library = OllamaLibraryRegistry(
        RegistryCache(services.store), base_url=registry.url, site_url=site.url
    )
    services.discovery.registries[ModelRegistryType.OLLAMA_LIBRARY] = library
    return app


async def test_ollama_mode_lists_filters_and_pulls_from_the_library(
    hub: FakeHub, paths: Paths, tmp_path: Path, site: FakeOllamaSite, registry: FakeRegistry
) -> None:
    app = _library_app(paths, tmp_path, site, registry)
    async with app.run_test(size=(140, 45)) as pilot:
        screen, results = await open_discover(app, pilot)
        await pilot.press("o")
        status = screen.query_one("#discover-status", Static)
        await until(lambda: "Popular in the Ollama library" in str(status.render()))
        below = str(screen.query_one("#discover-facets", Static).render())
        assert "read from ollama.com's pages: there is no search API" in below
        assert "Ollama" in screen.query_one("#discover-query", Input).placeholder
        await until(lambda: results.row_count == 6)
        assert _cells(results, 1)[:2] == ["deepseek-r1", "llama3.2"]
        assert _cells(results, 2)[1] == "1b, 3b"  # every size the library lists
        assert _cells(results, 3)[0] == "75,200,000"

        await search_for(screen, pilot, "llama")
        await until(lambda: _cells(results, 1) == ["llama3.1", "llama3.2", "llama3.2-vision"])

        results.focus()
        results.move_cursor(row=1)
        variants = screen.query_one("#discover-variants", DataTable)
        await until(lambda: "1b-instruct-q4_K_M" in _cells(variants, 0), seconds=20)
        card = str(screen.query_one("#discover-card", Static).render())
        assert "Meta's Llama 3.2 goes small" in card and "Sizes: 1b, 3b" in card
        assert "6 tags" in card

        await pilot.press("v")
        variants.move_cursor(row=_cells(variants, 0).index("1b"))
        await pilot.press("d")
        manager = app.services.download_manager

        async def queued() -> bool:
            return bool(await manager.get_downloads() + await manager.get_history())

        await until_answered(queued, seconds=20)
        download = (await manager.get_downloads() + await manager.get_history())[0]
        # What was queued is what the registry's manifest names for llama3.2:1b.
        assert download.model.id == "llama3.2:1b"
        assert download.variant.sha256 == hashlib.sha256(ONE_B).hexdigest()
        finished = await manager.wait(download.id)
        assert finished.status is DownloadStatus.COMPLETED, finished.error


async def test_ollama_mode_snapshot(
    hub: FakeHub,
    paths: Paths,
    tmp_path: Path,
    site: FakeOllamaSite,
    registry: FakeRegistry,
    svg_snapshot: SnapshotAssertion,
) -> None:
    app = _library_app(paths, tmp_path, site, registry)
    async with app.run_test(size=(120, 40)) as pilot:
        screen, results = await open_discover(app, pilot)
        await pilot.press("o")
        await until(lambda: results.row_count == 6)
        results.move_cursor(row=1)
        variants = screen.query_one("#discover-variants", DataTable)
        # llama3.2's own tags, not deepseek-r1's still shown from the first row.
        await until(lambda: "1b-instruct-q4_K_M" in _cells(variants, 0), seconds=20)
        await pilot.pause(0.2)
        assert svg_snapshot == app.export_screenshot()


async def test_offline_the_list_comes_from_the_store_with_its_age(
    hub: FakeHub, paths: Paths, tmp_path: Path, site: FakeOllamaSite, registry: FakeRegistry
) -> None:
    app = _library_app(paths, tmp_path, site, registry)
    async with app.run_test(size=(140, 45)) as pilot:
        screen, results = await open_discover(app, pilot)
        await pilot.press("o")
        await until(lambda: results.row_count == 6)
        await age_the_cache(app, hours=2)
        site.down = True
        await pilot.press("t")  # the popular list again: the site cannot answer now
        status = screen.query_one("#discover-status", Static)
        await until(lambda: "offline, from cache 120 min old" in str(status.render()))
        assert results.row_count == 6


async def test_hostile_page_text_is_shown_as_text(
    hub: FakeHub, paths: Paths, tmp_path: Path, site: FakeOllamaSite, registry: FakeRegistry
) -> None:
    site.searches[("evil", 1)] = page("search_hostile.html")
    hostile = "[bold red]with markup[/] and \x1b[2J\x07 raw escapes"
    site.tags["evil"] = (
        page("tags_llama3.2.html")
        .replace("llama3.2", "evil")
        .replace("Meta&#39;s Llama 3.2 goes small with 1B and 3B models.", hostile)
    )
    app = _library_app(paths, tmp_path, site, registry)
    async with app.run_test(size=(140, 45)) as pilot:
        screen, results = await open_discover(app, pilot)
        await pilot.press("o")
        await until(lambda: results.row_count == 6)
        await search_for(screen, pilot, "evil")
        await until(lambda: _cells(results, 1) == ["evil", "tiny"])
        results.focus()
        results.move_cursor(row=0)
        card = screen.query_one("#discover-card", Static)
        await until(lambda: "with markup" in str(card.render()), seconds=20)
        # The page's markup is shown as text, its control bytes as visible escapes.
        assert "[bold red]with markup[/]" in str(card.render())
        assert "\\x1b[2J" in str(card.render())
        shown = app.export_screenshot()
        assert "\x1b" not in shown and "\x07" not in shown


async def age_the_cache(app: LexituiApp, *, hours: float) -> None:
    """Make every stored registry answer ``hours`` older, as if fetched that long ago."""
    async with app.services.store.write() as conn:
        cursor = await conn.execute("SELECT key, fetched_at FROM registry_cache")
        for key, fetched in await cursor.fetchall():
            older = datetime.fromisoformat(fetched) - timedelta(hours=hours)
            await conn.execute(
                "UPDATE registry_cache SET fetched_at = ? WHERE key = ?",
                (older.isoformat(timespec="microseconds"), key),
            )

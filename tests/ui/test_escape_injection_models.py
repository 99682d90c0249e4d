"""Models: GGUF header strings, file names on disk and Hugging Face cache folders are shown as
text in the table, the detail lines and the Dashboard's list of installed models."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from lexitui.config import Paths
from lexitui.services import Services
from lexitui.storage.disk import DiskUsage
from lexitui.storage.library_roots import LibraryRoots
from lexitui.storage.manager import StorageManager
from lexitui.ui.app import LexituiApp
from lexitui.ui.models.screen import ModelsScreen
from tests.storage.layouts import add_to_hf_cache, write_gguf
from tests.ui.hardware_machine import Machine, build_services
from tests.ui.hostile_text import (
    assert_terminal_safe,
    hostile,
    hostile_file_name,
    screen_text,
    shown_file_name,
)
from tests.waiting import until

DISK = DiskUsage(total=500_000_000_000, used=100_000_000_000, free=400_000_000_000)


def _manager(services: Services) -> StorageManager:
    return StorageManager(
        services.paths.data_dir,
        services.store,
        services.registry,
        services.bus,
        roots=LibraryRoots.from_env(),
        hardware=services.hardware.detect,
        disk_usage=lambda _path: DISK,
    )


@pytest.fixture
async def hostile_models_app(
    paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> LexituiApp:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "ollama"))
    # A GGUF whose header names carry the payload, in a file whose name does too.
    source = tmp_path / "src" / f"{hostile_file_name('DISKFILE')}.Q8_0.gguf"
    write_gguf(source, name=hostile("GGUFNAME"), basename=hostile("BASENAME"))
    cached = f"{hostile_file_name('HFFILE')}.Q8_0.gguf"
    add_to_hf_cache(tmp_path / "hf", "acme/tiny-GGUF", cached, source)
    earlier = Services.build(paths)
    await earlier.start()
    try:
        await _manager(earlier).import_model(source)
    finally:
        await earlier.stop()
    machine = Machine(ram_total_gib=16, ram_available_gib=12)
    services = build_services(paths, tmp_path / "root", "nvml_0_gpus.json", machine=machine)
    services.storage = _manager(services)  # type: ignore[attr-defined]
    return LexituiApp(services)


async def test_model_names_and_paths_are_shown_as_text(hostile_models_app: LexituiApp) -> None:
    app = hostile_models_app
    async with app.run_test(size=(220, 50)) as pilot:
        # The Dashboard lists installed models by id.
        await app.services_ready.wait()
        models_panel = app.screen.query_one("#dash-models", Static)
        await until(lambda: "Installed: 2" in str(models_panel.render()))
        await pilot.pause()
        assert_terminal_safe(app)

        await app.switch_mode("models")
        screen = app.screen
        assert isinstance(screen, ModelsScreen)
        table = screen.query_one(DataTable)
        await until(lambda: table.row_count == 3)
        shown = []
        for row in range(table.row_count):
            table.move_cursor(row=row)
            await pilot.pause()
            assert_terminal_safe(app)
            shown.append(screen_text(app))
        # The imported copy is named after its file; the cached one after its repo and file.
        assert any(shown_file_name("DISKFILE") in text for text in shown)
        assert any(shown_file_name("HFFILE") in text for text in shown)

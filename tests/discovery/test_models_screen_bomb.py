"""The Models screen with a block-count bomb among good installed models: the screen stays up,
lists them all, and its suggestions say in one line that the bad one's header is invalid (it
once grew the app by gigabytes and took it down)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from lexitui.config import Paths
from lexitui.domain.storage import ModelImportOptions
from lexitui.services import Services
from lexitui.storage.library_roots import LibraryRoots
from lexitui.storage.manager import StorageManager
from lexitui.ui.app import LexituiApp
from lexitui.ui.models.screen import ModelsScreen
from tests.gguf.craft import block_count_bomb
from tests.storage.layouts import write_gguf
from tests.ui.hardware_machine import Machine, build_services
from tests.waiting import until

REFUSAL = "llama.block_count is 4,294,967,295, outside 1 to 4,096"


def _manager(services: Services) -> StorageManager:
    return StorageManager(
        services.paths.data_dir,
        services.store,
        services.registry,
        services.bus,
        roots=LibraryRoots.from_env(),
        hardware=services.hardware.detect,
    )


async def test_the_models_screen_names_the_bad_model_and_keeps_the_good_ones(
    paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "ollama"))
    earlier = Services.build(paths)
    await earlier.start()
    try:
        manager = _manager(earlier)
        for name, padding in (("alpha", 64), ("bad", 256)):
            source = tmp_path / "src" / f"{name}.Q8_0.gguf"
            write_gguf(source, name=name, basename=name, padding=padding)
            await manager.import_model(source, ModelImportOptions(custom_id=name))
    finally:
        await earlier.stop()
    (bad,) = (paths.models_dir / "installed" / "bad").glob("*.gguf")
    os.chmod(bad, stat.S_IRUSR | stat.S_IWUSR)
    bad.write_bytes(block_count_bomb())

    machine = Machine(ram_total_gib=16, ram_available_gib=12)
    services = build_services(paths, tmp_path / "root", "nvml_0_gpus.json", machine=machine)
    services.storage = _manager(services)  # type: ignore[attr-defined]
    app = LexituiApp(services)
    async with app.run_test(size=(140, 45)):
        await app.switch_mode("models")
        screen = app.screen
        assert isinstance(screen, ModelsScreen)
        table = screen.query_one(DataTable)
        suggestions = screen.query_one("#models-suggestions", Static)
        await until(lambda: "invalid" in str(suggestions.render()), seconds=20)
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert {"alpha.Q8_0", "bad.Q8_0"} <= set(names), names
        text = str(suggestions.render())
        invalid = [line for line in text.splitlines() if "invalid" in line]
        assert len(invalid) == 1 and "bad" in invalid[0], text
        assert app.is_running

"""The Models screen's rescan adopts, sha256-checked, the models another host put in a store
this host shares with it, and refuses a damaged one with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from lexitui.config import Paths
from lexitui.domain.storage import ModelImportOptions
from lexitui.downloads.layout import StoreLayout
from lexitui.files.host_lock import HOST_ENV
from lexitui.services import Services
from lexitui.storage.manager import StorageManager
from lexitui.ui.app import LexituiApp
from lexitui.ui.models.screen import ModelsScreen
from tests.storage.layouts import write_gguf
from tests.ui.hardware_machine import Machine, build_services
from tests.waiting import until


async def put_by_another_host(paths: Paths, tiny: Path, model_id: str) -> None:
    """What host gpu1 leaves in the shared store: blob, links and manifest; no row here."""
    earlier = Services.build(paths)
    await earlier.start()
    try:
        manager = StorageManager(
            earlier.paths.data_dir, earlier.store, earlier.registry, earlier.bus
        )
        await manager.import_model(tiny, ModelImportOptions(custom_id=model_id))
        await manager.rows.remove([model_id])
    finally:
        await earlier.stop()


@pytest.fixture
async def shared_app(paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LexituiApp:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "ollama"))
    tiny = write_gguf(tmp_path / "src" / "tiny-llama.Q8_0.gguf")
    other = write_gguf(tmp_path / "src2" / "tiny-llama.Q8_0.gguf", padding=64)
    monkeypatch.setenv(HOST_ENV, "gpu1")
    await put_by_another_host(paths, tiny, "from-gpu1")
    await put_by_another_host(paths, other, "damaged-on-gpu1")
    damaged = StoreLayout(paths.models_dir).install_dir("damaged-on-gpu1") / other.name
    with open(damaged, "r+b") as handle:  # the blob itself (a hard link): a bit flipped on disk
        handle.seek(-1, 2)
        last = handle.read(1)
        handle.seek(-1, 2)
        handle.write(bytes([last[0] ^ 0xFF]))
    monkeypatch.setenv(HOST_ENV, "gpu2")  # this host
    machine = Machine(ram_total_gib=16, ram_available_gib=12)
    return LexituiApp(build_services(paths, tmp_path / "root", "nvml_0_gpus.json", machine=machine))


async def test_the_rescan_adopts_another_hosts_model_and_refuses_a_damaged_one(
    shared_app: LexituiApp,
) -> None:
    async with shared_app.run_test(size=(160, 40)):
        await shared_app.switch_mode("models")
        screen = shared_app.screen
        assert isinstance(screen, ModelsScreen)
        status = screen.query_one("#models-status", Static)
        await until(lambda: "from other hosts" in str(status.render()))
        text = str(status.render())
        assert "1 from other hosts" in text
        assert "refused damaged-on-gpu1: tiny-llama.Q8_0.gguf: sha256 " in text
        assert "does not match th" in text  # cut to fit the status line
        table = screen.query_one(DataTable)
        await until(lambda: table.row_count == 2)  # the starter model and gpu1's

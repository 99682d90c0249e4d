"""A split GGUF pulled from the local Hub shows on the Models screen beside the starter model and
a GGUF another tool left in the Hugging Face cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable

from lexitui.config import Paths
from lexitui.domain.enums import DownloadStatus
from lexitui.services import Services
from lexitui.ui.app import LexituiApp
from lexitui.ui.models.screen import ModelsScreen
from tests.fakes.hub_server import FakeHub
from tests.storage.layouts import add_to_hf_cache, write_gguf
from tests.waiting import until

TINY = "lexitui-fixtures/tiny-random-llama-GGUF"


async def test_a_pulled_split_model_is_listed_with_the_starter_and_the_hf_cache(
    hub: FakeHub, paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "ollama"))
    cached = write_gguf(tmp_path / "src" / "cached-llama.Q8_0.gguf")
    add_to_hf_cache(tmp_path / "hf", "acme/cached-llama-GGUF", "cached-llama.Q8_0.gguf", cached)

    app = LexituiApp(Services.build(paths))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.services_ready.wait()
        services = app.services
        details = await services.discovery.details(TINY)
        split = next(f.variant for f in details.variants if len(f.variant.files) == 2)
        started = await services.download_manager.start_download(details.model, split)
        finished = await services.download_manager.wait(started.id)
        assert finished.status is DownloadStatus.COMPLETED, finished.error

        await pilot.press("6")
        screen = app.screen
        assert isinstance(screen, ModelsScreen)
        table = screen.query_one("#models-table", DataTable)
        await until(lambda: table.row_count == 3, seconds=20)
        rows = [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
        assert any("tiny-random-llama" in r and "F16" in r for r in rows), rows
        assert any("hf-cache" in r for r in rows), rows
        assert any("SmolLM2" in r for r in rows), rows

"""The Backends area on this machine: the embedded engine, Ollama's absence, a custom endpoint."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, Static

from lexitui.config import Paths, load_config
from lexitui.storage.starter import STARTER_ID
from lexitui.ui.app import LexituiApp
from lexitui.ui.backends.screen import BackendsScreen
from tests.home_config import closed_address
from tests.waiting import until


def row_of(screen: BackendsScreen, name: str) -> list[str]:
    table = screen.query_one(DataTable)
    if name not in {str(k.value) for k in table.rows}:
        return []
    return [str(cell) for cell in table.get_row(name)]


@pytest.mark.engine
async def test_engine_ollama_and_a_custom_endpoint() -> None:
    app = LexituiApp()
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await app.services_ready.wait()
        await pilot.press("3")
        screen = app.screen
        assert isinstance(screen, BackendsScreen)
        await until(lambda: bool(row_of(screen, "ollama")))
        ollama = " ".join(row_of(screen, "ollama"))
        assert f"not found at {closed_address()}" in ollama  # where it looked

        await pilot.press("s")  # start the embedded engine with the starter model
        await until(lambda: "running" in " ".join(row_of(screen, "llamacpp")), 60)
        engine_row = " ".join(row_of(screen, "llamacpp"))
        assert STARTER_ID in engine_row and "127.0.0.1:" in engine_row
        assert "on embedded llama.cpp" in engine_row  # which engine runs it
        assert app.services.backends.managed.running
        engines = str(screen.query_one("#backends-engines", Static).render())
        assert engines.startswith("Engines: embedded llama.cpp recorded: CPU, CUDA0")

        await pilot.press("a")
        await pilot.pause()
        app.screen.query_one("#form-name", Input).value = "lab-server"
        app.screen.query_one("#form-url", Input).value = "http://127.0.0.1:9"
        app.screen.query_one("#form-key-env", Input).value = "LAB_API_KEY"
        await pilot.press("ctrl+s")
        await until(lambda: bool(row_of(screen, "lab-server")))
        saved = load_config(Paths.from_env())["backends"]
        assert "lab-server" in str(saved) and "LAB_API_KEY" in str(saved)

        await pilot.press("escape", "q")


async def test_a_bad_endpoint_is_refused_with_its_reason() -> None:
    before = load_config(Paths.from_env())
    app = LexituiApp()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await app.services_ready.wait()
        await pilot.press("3")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        app.screen.query_one("#form-name", Input).value = "bad name!"
        app.screen.query_one("#form-url", Input).value = "ftp://example"
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        messages = [str(n.message) for n in app._notifications]
        assert any("name" in m.lower() for m in messages), messages
        assert load_config(Paths.from_env()) == before, "nothing was saved"


async def test_a_refresh_that_ends_after_the_table_is_gone_is_dropped() -> None:
    # Quitting takes the screen's widgets down while the backends may still be being asked.
    app = LexituiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.services_ready.wait()
        await pilot.press("3")
        screen = app.screen
        assert isinstance(screen, BackendsScreen)
        await until(lambda: bool(row_of(screen, "ollama")))
        await screen.query_one(DataTable).remove()
        worker = screen.action_refresh()
        await worker.wait()
        await pilot.pause()
        assert app.is_running and worker.error is None

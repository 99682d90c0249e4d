"""The Backends screen follows the backends' status streams without a refresh (``r``).

The managed engine's row says "starting" while it loads, never "stopped"; a model the Runtime
area loads shows on the llama.cpp row (and leaves it when unloaded); an endpoint added with the
form has its row at once, even when the endpoint itself takes long to answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from rich.text import Text
from textual.widgets import DataTable, Input

from lexitui.storage.starter import STARTER_ID
from lexitui.ui.app import LexituiApp
from lexitui.ui.backends.screen import BackendsScreen
from tests.waiting import until


def row_of(screen: BackendsScreen, name: str) -> list[str]:
    table = screen.query_one(DataTable)
    if name not in {str(k.value) for k in table.rows}:
        return []
    return [Text.from_markup(str(cell)).plain for cell in table.get_row(name)]


def status_of(screen: BackendsScreen, name: str) -> str:
    row = row_of(screen, name)
    return row[1] if row else ""


async def open_backends(app: LexituiApp, pilot: object) -> BackendsScreen:
    await app.services_ready.wait()
    await app.switch_mode("backends")
    screen = app.screen
    assert isinstance(screen, BackendsScreen)
    await until(lambda: bool(row_of(screen, "llamacpp")) and bool(row_of(screen, "ollama")))
    return screen


@pytest.mark.engine
async def test_the_engine_row_goes_from_starting_to_running_never_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = LexituiApp()
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_backends(app, pilot)
        assert status_of(screen, "llamacpp") == "stopped"
        # A big model takes seconds to load; the starter takes under one, so its load is held
        # for two seconds first: long enough for the screen to look at the engine meanwhile.
        engine = app.services.backends.managed._engine
        real_start = engine.start

        async def slow_start(*args: Any, **kwargs: Any) -> str:
            await asyncio.sleep(2)
            return await real_start(*args, **kwargs)

        monkeypatch.setattr(engine, "start", slow_start)
        seen: list[str] = []
        await pilot.press("s")
        for _ in range(3000):
            status = status_of(screen, "llamacpp")
            if not seen or seen[-1] != status:
                seen.append(status)
            if status == "running":
                break
            await asyncio.sleep(0.02)
        assert seen[-1] == "running", seen
        assert "starting" in seen, seen
        assert "stopped" not in seen[seen.index("starting") :], seen
        await pilot.press("x")
        await until(lambda: status_of(screen, "llamacpp") == "stopped", 30)


@pytest.mark.engine
async def test_a_model_loaded_in_the_runtime_shows_on_the_engine_row() -> None:
    app = LexituiApp()
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_backends(app, pilot)
        assert status_of(screen, "llamacpp") == "stopped"

        loaded = await app.services.runtime.load(STARTER_ID)
        await until(lambda: status_of(screen, "llamacpp") == "running", 30)
        row = " ".join(row_of(screen, "llamacpp"))
        assert STARTER_ID in row and loaded.endpoint in row and "Runtime" in row
        assert "not started" not in row

        await app.services.runtime.unload(loaded.id)
        await until(lambda: status_of(screen, "llamacpp") == "stopped", 30)


@contextlib.asynccontextmanager
async def silent_endpoint() -> AsyncIterator[str]:
    """A loopback server that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_an_added_endpoint_has_its_row_at_once() -> None:
    app = LexituiApp()
    async with silent_endpoint() as url, app.run_test(size=(160, 40)) as pilot:
        screen = await open_backends(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        app.screen.query_one("#form-name", Input).value = "slow-box"
        app.screen.query_one("#form-url", Input).value = url
        await pilot.press("ctrl+s")
        # Its check waits seconds for an answer that never comes; the row does not.
        await until(lambda: bool(row_of(screen, "slow-box")), seconds=1.5)
        assert url.removeprefix("http://") in " ".join(row_of(screen, "slow-box"))

"""The app owns the services: they start on mount, stop on quit, and quitting is clean."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psutil
import pytest

from lexitui.storage.starter import STARTER_ID
from lexitui.ui.app import LexituiApp
from lexitui.ui.runtime.screen import RuntimeScreen
from tests.waiting import until


@pytest.mark.engine
async def test_quit_with_a_loaded_model_stops_the_engine_cleanly() -> None:
    errors: list[object] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    app = LexituiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("1")  # the dashboard listens to model events too
        await app.services_ready.wait()
        await app.open_chat(STARTER_ID)
        await until(lambda: app.services.runtime.active_model is not None, 30)
        active = app.services.runtime.active_model
        assert active is not None
        pid = active.pid
        assert pid is not None
        await pilot.press("escape", "q")
    assert app.return_code in (None, 0)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, (
        "quitting must stop the engine child process"
    )
    assert app.services.store._conn is None, "quitting must close the database"
    await asyncio.sleep(0.1)
    assert errors == [], "no callback may touch a screen that is already gone"


@pytest.mark.engine
async def test_a_bad_model_shows_the_error_and_the_app_keeps_running(tmp_path: Path) -> None:
    bad = tmp_path / "Broken-Model.Q4_0.gguf"
    bad.write_bytes(b"GGUF" + b"\xff" * 64)
    app = LexituiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await app.services_ready.wait()
        await app.services.registry.add(
            "broken-model", "Broken model", bad, source="test", registered_by_path=True
        )
        await app.open_chat("broken-model")
        screen = app.screen
        assert isinstance(screen, RuntimeScreen)
        state = screen.query_one("#runtime-state")
        await until(lambda: "Could not load" in str(state.render()), 30)
        assert "broken-model" in str(state.render())
        # The header is refused before any engine starts, so the model has no engine log yet,
        # and f2 says so rather than showing another model's log.
        assert "GGUF version" in str(state.render())
        await pilot.press("f2")
        await pilot.pause()
        from textual.widgets import Log

        log_text = "\n".join(str(line) for line in app.screen.query_one(Log).lines)
        assert "No engine log yet (llamacpp-broken-model.log)" in log_text
        await pilot.press("escape", "escape", "6")
        assert app.screen.name == "models"


async def test_a_database_from_a_newer_release_exits_with_a_clear_message() -> None:
    import sqlite3

    from lexitui.config import Paths

    paths = Paths.from_env()
    paths.ensure()
    with sqlite3.connect(paths.database) as conn:
        conn.execute("PRAGMA user_version = 999")
    app = LexituiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)
    assert app.return_code == 1
    assert not app.services_ready.is_set()


async def test_keys_are_remapped_from_the_config_file() -> None:
    from lexitui.config import Paths, save_config_section

    save_config_section(Paths.from_env(), "keys", {"area.models": "m"})
    app = LexituiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("6")  # the default key no longer does it
        await pilot.pause()
        assert app.current_mode == "dashboard"
        await pilot.press("m")
        await pilot.pause()
        assert app.current_mode == "models"


@pytest.mark.parametrize("size", [(40, 10), (80, 24)], ids=["40x10", "80x24"])
async def test_every_area_survives_tiny_terminals_and_resize_storms(size: tuple[int, int]) -> None:
    from lexitui.areas import AREAS

    app = LexituiApp()
    async with app.run_test(size=size) as pilot:
        await app.services_ready.wait()
        for area in AREAS:
            await pilot.press(area.key)
            await pilot.pause()
            assert app.current_mode == area.mode
            for width, height in ((20, 5), (200, 60), size):
                await pilot.resize_terminal(width, height)
            await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        await pilot.press("escape", "q")
    assert app.return_code in (None, 0)


async def test_a_screen_resumed_twice_gets_each_event_once() -> None:
    from lexitui.events import ModelUnloaded
    from lexitui.ui.dashboard.screen import DashboardScreen

    app = LexituiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.services_ready.wait()
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        calls: list[object] = []
        screen._on_event = calls.append  # type: ignore[method-assign]
        screen.drop_streams()
        for _ in range(2):  # Textual can deliver ScreenResume twice for one showing
            screen.watch_stream(app.services.bus.inference, screen._on_event)
        app.services.bus.publish(ModelUnloaded(model_id="m", reason="test"))
        await pilot.pause(0.1)
    assert len(calls) == 1


async def test_quitting_at_once_during_start_up_exits_cleanly() -> None:
    import threading

    before = set(threading.enumerate())
    app = LexituiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")  # before the services have finished starting
    assert app.services.store._conn is None, "the database must be closed"
    assert not app.services.monitor.running
    lingering = [t for t in set(threading.enumerate()) - before if not t.daemon]
    assert lingering == [], "a non-daemon thread left behind keeps the process from exiting"

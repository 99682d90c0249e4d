"""``p`` in the Fleet area pulls a model onto a real ``lexitui serve`` host on loopback: the
host's answer shows as one line, and the host's details list the download until it completes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import Input

from lexitui.config import Paths
from lexitui.ui.app import LexituiApp
from lexitui.ui.fleet.details import HostDetailsScreen
from lexitui.ui.fleet.pull_dialog import PullDialog
from lexitui.ui.fleet.screen import FleetScreen
from tests.fakes.hub_server import FakeHub
from tests.fleet.test_fleet_serve import free_port, home_env
from tests.gateway.serve_process import running_serve
from tests.home_config import write_test_config
from tests.ui.test_fleet_live import health
from tests.waiting import until

TINY = "lexitui-fixtures/tiny-random-llama-GGUF"


def notes(app: LexituiApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_p_pulls_a_model_onto_the_highlighted_host(
    lexitui_home: Path, tmp_path: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("KEY_ALPHA", "key-of-alpha")
    added = subprocess.run(
        [sys.executable, "-m", "lexitui", "host", "add", "alpha", f"http://127.0.0.1:{port}",
         "--key-env", "KEY_ALPHA"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    env = home_env(tmp_path / "alpha", LEXITUI_GATEWAY_KEY="key-of-alpha")
    write_test_config(Paths.from_env(env).config_file, "")
    with running_serve("--port", str(port), env=env):
        app = LexituiApp()
        async with app.run_test(size=(160, 40)) as pilot:
            await app.services_ready.wait()
            await pilot.press("9")
            screen = app.screen
            assert isinstance(screen, FleetScreen)
            await until(lambda: health(screen, "alpha") == "up", 60)

            await pilot.press("p")
            await until(lambda: isinstance(app.screen, PullDialog))
            app.screen.query_one(Input).value = f"{TINY}:Q9_9"
            await pilot.press("enter")
            await until(lambda: any("Q9_9 names no variant" in n for n in notes(app)), 30)

            await pilot.press("p")
            await until(lambda: isinstance(app.screen, PullDialog))
            app.screen.query_one(Input).value = f"{TINY}:Q8_0"
            await pilot.press("enter")
            await until(lambda: any(f"alpha: {TINY}:Q8_0" in n for n in notes(app)), 30)

            def downloads() -> str:
                return str(app.screen.query_one("#host-downloads").render())

            async def completed() -> bool:
                await pilot.press("i")
                await until(lambda: isinstance(app.screen, HostDetailsScreen))
                await until(lambda: "asking" not in downloads(), 30)
                shown = downloads()
                await pilot.press("escape")
                await until(lambda: app.screen is screen)
                return "completed 100.0%" in shown and "tiny-random-llama" in shown

            for _ in range(60):
                if await completed():
                    break
                await pilot.pause(0.5)
            else:
                raise AssertionError("the pulled model never showed completed in the details")

"""The Fleet area over two real ``lexitui serve`` hosts on loopback, added as a user adds them:
both rows show up with their latency; ``l`` and ``u`` load and unload the starter model on one
of them through its gateway; one killed with SIGKILL shows down, with its reason, on the next
probes, without a key press."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import DataTable

from lexitui.config import Paths
from lexitui.storage.starter import STARTER_ID
from lexitui.ui.app import LexituiApp
from lexitui.ui.fleet.details import HostDetailsScreen
from lexitui.ui.fleet.model_choice import ModelChoiceScreen
from lexitui.ui.fleet.screen import FleetScreen
from tests.fleet.test_fleet_serve import free_port, home_env
from tests.gateway.serve_process import running_serve
from tests.home_config import write_test_config
from tests.waiting import until

NAMES = ("alpha", "beta")
pytestmark = pytest.mark.engine


def row_of(screen: FleetScreen, name: str) -> list[str]:
    table = screen.query_one(DataTable)
    if name not in {str(key.value) for key in table.rows}:
        return []
    cells = table.get_row(name)
    return [Text.from_markup(c).plain if isinstance(c, str) else c.plain for c in cells]


def health(screen: FleetScreen, name: str) -> str:
    row = row_of(screen, name)
    return row[1].split()[0] if row else ""


async def test_two_hosts_up_then_one_killed_shows_down_with_its_reason(
    lexitui_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ports = {name: free_port() for name in NAMES}
    for name, port in ports.items():
        monkeypatch.setenv(f"KEY_{name.upper()}", f"key-of-{name}")
        added = subprocess.run(
            [sys.executable, "-m", "lexitui", "host", "add", name, f"http://127.0.0.1:{port}",
             "--key-env", f"KEY_{name.upper()}"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
    with ExitStack() as stack:
        procs = {}
        for name, port in ports.items():
            env = home_env(tmp_path / name, LEXITUI_GATEWAY_KEY=f"key-of-{name}")
            write_test_config(Paths.from_env(env).config_file, "")
            # Its own process group, so SIGKILL takes all of it down, as a dead machine goes.
            served = running_serve("--port", str(port), env=env, preexec_fn=os.setsid)
            procs[name] = stack.enter_context(served)[1]

        app = LexituiApp()
        async with app.run_test(size=(160, 40)) as pilot:
            await app.services_ready.wait()
            await pilot.press("9")
            screen = app.screen
            assert isinstance(screen, FleetScreen)
            await until(lambda: all(health(screen, n) == "up" for n in NAMES), 60)
            for name in NAMES:
                row = row_of(screen, name)
                assert row[1].startswith("up ") and row[1].endswith(" ms"), row
                assert row[2].startswith("cpu ") and row[3].endswith(" GiB"), row
                assert row[5] == "0/0", row
            assert "2 of 2 hosts up" in str(screen.query_one("#fleet-note").render())

            # alpha is under the cursor: load the starter on it, then unload it.
            await pilot.press("l")
            await until(lambda: isinstance(app.screen, ModelChoiceScreen))
            assert STARTER_ID in app.screen.models
            await pilot.press("enter")
            await until(lambda: row_of(screen, "alpha")[-1] == STARTER_ID, 60)
            assert row_of(screen, "beta")[-1] == "none loaded"
            await pilot.press("u")
            await until(lambda: isinstance(app.screen, ModelChoiceScreen))
            await pilot.press("enter")
            await until(lambda: row_of(screen, "alpha")[-1] == "none loaded", 60)

            os.killpg(procs["beta"].pid, signal.SIGKILL)
            procs["beta"].wait(timeout=30)
            await until(lambda: health(screen, "beta") == "down", 30)
            assert "connection refused" in row_of(screen, "beta")[-1]
            assert health(screen, "alpha") == "up"

            await pilot.press("i")  # alpha is under the cursor: its details open
            await pilot.pause()
            details = str(app.screen.query_one("#host-details").render())
            assert "alpha" in details and "Engines" in details and "Installed" in details
            await pilot.press("escape")
            await until(lambda: app.screen is screen)
            await pilot.press("enter")  # Enter on a row opens the same
            await until(lambda: isinstance(app.screen, HostDetailsScreen))
            assert app.screen.state.name == "alpha"

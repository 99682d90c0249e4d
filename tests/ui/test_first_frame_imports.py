"""What the TUI imports before its first frame: the shell of the app and the dashboard, not the
services (they are built once the frame is painted) nor the heavy packages they use.

Each check runs in a fresh interpreter. Speed itself is measured in bench/bench_startup.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from lexitui.ui.app import LexituiApp
from lexitui.ui.dashboard.screen import DashboardScreen


def loaded_after(code: str, watched: tuple[str, ...]) -> list[str]:
    report = f"{code}\nimport json, sys\nloaded = [m for m in {watched!r} if m in sys.modules]"
    report += "\nprint(json.dumps(loaded))"
    result = subprocess.run(
        [sys.executable, "-c", report],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_the_app_and_its_dashboard_import_no_service() -> None:
    watched = (
        "lexitui.services",
        "lexitui.runtime.manager",
        "lexitui.backends.manager",
        "lexitui.hardware.detector",
        "httpx",
        "genai_prices",
        "numpy",
    )
    assert loaded_after("import lexitui.ui.app, lexitui.ui.dashboard.screen", watched) == []


def test_built_services_leave_the_backends_for_later() -> None:
    code = "from lexitui.services import Services\nServices.build()"
    assert loaded_after(code, ("lexitui.backends.manager", "httpx", "genai_prices")) == []


async def test_the_dashboard_paints_before_the_services_are_built() -> None:
    app = LexituiApp()
    painted_without_services: list[bool] = []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        painted_without_services.append(app._services is None)
        await app.services_ready.wait()
        await pilot.pause()
        assert app._services is not None and app.services.started
    assert painted_without_services == [True]

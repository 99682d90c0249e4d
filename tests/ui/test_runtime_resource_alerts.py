"""The Runtime area shows the resource monitor's alerts: memory running short while a model is
loaded appears as a line that says what is short and what to do, also when it was raised while
another area was open, and the line goes once memory is free again."""

from __future__ import annotations

import pytest

from lexitui.config import Paths
from lexitui.hardware.detector import HardwareDetector
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID
from lexitui.ui.app import LexituiApp
from lexitui.ui.runtime.alerts import ResourceAlertLine
from tests.runtime.test_resource_sampling import SMALL, Ram
from tests.ui.test_runtime_screen import open_runtime
from tests.waiting import until


def app_with(paths: Paths, ram: Ram) -> LexituiApp:
    hardware = HardwareDetector(model_storage_path=paths.models_dir, memory=ram)
    return LexituiApp(Services.build(paths, hardware=hardware))


def shown(line: ResourceAlertLine) -> str:
    return str(line.render()) if line.display else ""


@pytest.mark.engine
async def test_memory_running_low_is_shown_on_the_runtime_screen_until_it_recovers(
    paths: Paths,
) -> None:
    ram = Ram(free_gib=12)
    app = app_with(paths, ram)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runtime(app, pilot)
        line = screen.query_one(ResourceAlertLine)
        assert shown(line) == ""

        await app.services.runtime.load(STARTER_ID, SMALL)
        ram.free_gib = 1  # something else takes memory: 94% of it is used
        await until(lambda: "Memory low" in shown(line), 30)
        assert shown(line) == (
            "Memory low: 1.0 GiB free of 16.0 GiB (RAM 94% used, alert at 90%);"
            " unload a model or close other programs"
        )
        await until(lambda: line.region.height > 0)  # laid out on the screen, not only shown

        ram.free_gib = 12
        await until(lambda: shown(line) == "", 30)


@pytest.mark.engine
async def test_an_alert_raised_in_another_area_is_shown_when_runtime_opens(paths: Paths) -> None:
    ram = Ram(free_gib=12)
    app = app_with(paths, ram)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.services_ready.wait()
        await app.services.runtime.load(STARTER_ID, SMALL)
        ram.free_gib = 1
        await until(lambda: bool(app.services.resources.standing_alerts()), 30)

        screen = await open_runtime(app, pilot)
        await pilot.pause()
        assert shown(screen.query_one(ResourceAlertLine)).startswith("Memory low: 1.0 GiB free")

"""The TUI's background start: hardware detection (the dashboard's first data) runs first, and
the backends' health checks, the storage start and the resumed downloads follow once it is done,
and so does the routing service the dashboard asks for, so their imports and probes do not slow
it down."""

from __future__ import annotations

import asyncio

from lexitui.config import Paths
from lexitui.domain.hardware import HardwareCapabilities
from lexitui.hardware.detector import HardwareDetector
from lexitui.services import Services
from lexitui.ui.routing.data import routing_service
from tests.waiting import until


class HeldDetector(HardwareDetector):
    """Detection that finishes only when the test says so."""

    def __init__(self, paths: Paths) -> None:
        super().__init__(model_storage_path=paths.models_dir)
        self.release = asyncio.Event()

    async def detect(self) -> HardwareCapabilities:
        await self.release.wait()
        return await super().detect()


async def test_backends_storage_and_downloads_wait_for_hardware_detection(paths: Paths) -> None:
    hardware = HeldDetector(paths)
    services = Services.build(paths, hardware=hardware)
    await services.start(background=True)
    routing = asyncio.create_task(routing_service(services))  # as the dashboard asks for it
    try:
        await asyncio.sleep(0.5)
        assert not routing.done() and "routing" not in services.__dict__
        assert "backends" not in services.__dict__  # not even imported yet
        assert "storage" not in services.__dict__
        assert "download_manager" not in services.__dict__
        hardware.release.set()
        await until(
            lambda: "backends" in services.__dict__ and services.backends.monitor.running, 30
        )
        await until(lambda: "storage" in services.__dict__, 30)
        await until(lambda: "download_manager" in services.__dict__, 30)
        assert hardware.last is not None
        await asyncio.wait_for(routing, 60)
    finally:
        routing.cancel()
        await services.stop()


async def test_a_quit_while_detection_runs_stops_cleanly(paths: Paths) -> None:
    hardware = HeldDetector(paths)
    services = Services.build(paths, hardware=hardware)
    await services.start(background=True)
    await services.stop()
    assert services.store._conn is None
    assert "backends" not in services.__dict__

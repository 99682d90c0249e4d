"""The resource monitor's sampler in started services: it samples while a model is loaded, so a
machine short of memory raises a ``ResourceAlert``; it sleeps with nothing loaded and ends with
``Services.stop()``."""

from __future__ import annotations

import pytest

from lexitui.config import Paths
from lexitui.domain.backends import ModelLoadOptions
from lexitui.events import Event, ResourceAlert
from lexitui.hardware.detector import HardwareDetector
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID
from tests.waiting import until

GIB = 1024**3
SMALL = ModelLoadOptions(context_length=1024, threads=1)


class Ram:
    """16 GiB of RAM, of which a test says how much is free (the rest of the machine is real)."""

    def __init__(self, free_gib: float) -> None:
        self.free_gib = free_gib

    def __call__(self) -> tuple[int, int]:
        return 16 * GIB, int(self.free_gib * GIB)


@pytest.mark.engine
async def test_started_services_sample_while_a_model_is_loaded_and_stop_with_it(
    paths: Paths,
) -> None:
    ram = Ram(free_gib=12)
    hardware = HardwareDetector(model_storage_path=paths.models_dir, memory=ram)
    services = Services.build(paths, hardware=hardware)
    alerts: list[ResourceAlert] = []

    def record(event: Event) -> None:
        if isinstance(event, ResourceAlert):
            alerts.append(event)

    services.bus.inference.subscribe(record)
    await services.start(background=True)
    try:
        assert not services.resources.running  # nothing loaded: nothing to sample
        loaded = await services.runtime.load(STARTER_ID, SMALL)
        ram.free_gib = 1  # then something else takes memory: 94% used
        await until(lambda: bool(alerts), 30)
        assert services.resources.running
        assert [a.resource for a in alerts] == ["ram"]
        assert alerts[0].message.startswith("memory low: 1.0 GiB free of 16.0 GiB (RAM 94% used")
        assert services.resources.standing_alerts() == alerts

        # The last model gone, the sampler sleeps and the alert no longer stands.
        await services.runtime.unload(loaded.id)
        assert not services.resources.running
        assert services.resources.standing_alerts() == []

        # Loaded again and short of memory again: the alert is raised again.
        ram.free_gib = 12
        await services.runtime.load(STARTER_ID, SMALL)
        ram.free_gib = 1
        await until(lambda: len(alerts) == 2, 30)
        assert services.resources.running
    finally:
        await services.stop()
    assert not services.resources.running
    assert len(alerts) == 2  # nothing sampled after stop()

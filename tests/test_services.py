"""The composition root: parts built on first use stay unbuilt until something uses them."""

from __future__ import annotations

from lexitui.config import Paths
from lexitui.services import Services


async def test_stopping_builds_no_part_that_was_never_used(paths: Paths) -> None:
    services = Services.build(paths)
    await services.start()
    assert not services.built("routing")
    assert not services.built("discovery")
    await services.stop()
    # Stopping asks only what was built: it must not build the routing or discovery service.
    assert not services.built("routing")
    assert not services.built("discovery")


async def test_a_used_part_is_built_and_stopped(paths: Paths) -> None:
    services = Services.build(paths)
    await services.start()
    try:
        assert services.routing is services.routing
        assert services.built("routing")
    finally:
        await services.stop()

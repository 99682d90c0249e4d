"""``EngineReloader`` on the real engine: a killed engine is loaded again with its options; an
engine stopped on purpose is not; a model that keeps crashing is given up on, and the local
provider then says why instead of loading it again."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from lexitui.domain.backends import ModelLoadOptions
from lexitui.runtime.engine_reload import EngineReloader, ReloadPolicy
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID

pytestmark = [pytest.mark.engine, pytest.mark.timeout(240)]
SMALL = ModelLoadOptions(context_length=1024, threads=1, embedding=True)
QUICK = ReloadPolicy(delays_s=(0.1, 0.1), crash_limit=2, window_s=600)


async def kill_and_wait_for_reload(
    services: Services, reloader: EngineReloader, old_pid: int
) -> int:
    os.kill(old_pid, signal.SIGKILL)
    for _ in range(1200):
        active = services.runtime.active_model
        if active is not None and active.pid not in (None, old_pid) and not reloader.status:
            return active.pid
        await asyncio.sleep(0.05)
    raise AssertionError("the model was not reloaded")


async def test_a_crashing_model_is_reloaded_then_given_up_on(services: Services) -> None:
    local = services.routing.local
    reloader = EngineReloader(services.runtime, QUICK)
    try:
        loaded = await services.runtime.load(STARTER_ID, SMALL)
        assert loaded.pid is not None
        new_pid = await kill_and_wait_for_reload(services, reloader, loaded.pid)
        reloaded = services.runtime.active_model
        assert reloaded is not None and reloaded.options == loaded.options  # the same options
        assert reloader.status is None and local.available_now()[0]

        os.kill(new_pid, signal.SIGKILL)  # the second crash within the window: the limit
        for _ in range(200):
            if reloader.given_up:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # time a reload would have needed to begin
        assert services.runtime.loaded_models() == []
        why = reloader.given_up[STARTER_ID]
        assert "crashed 2 times" in why and "no longer reloaded" in why and "SIGKILL" in why
        ok, reason = local.available_now()
        assert not ok and "no longer reloaded" in reason
    finally:
        await reloader.close()


async def test_an_engine_stopped_on_purpose_is_not_reloaded(services: Services) -> None:
    reloader = EngineReloader(services.runtime, QUICK)
    try:
        loaded = await services.runtime.load(STARTER_ID, SMALL)
        assert loaded.pid is not None
        os.kill(loaded.pid, signal.SIGTERM)  # what `lexitui unload` from elsewhere sends
        for _ in range(200):
            if not services.runtime.loaded_models():
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # well past the first reload delay
        assert services.runtime.loaded_models() == [] and reloader.status is None
        await services.runtime.load(STARTER_ID, SMALL)
        await services.runtime.unload_all()  # an unload by lexitui itself is no crash either
        await asyncio.sleep(1.0)
        assert services.runtime.loaded_models() == [] and reloader.status is None
    finally:
        await reloader.close()


async def test_a_reloaded_model_keeps_its_keep_alive(services: Services) -> None:
    reloader = EngineReloader(services.runtime, QUICK)
    try:
        loaded = await services.runtime.load(STARTER_ID, SMALL)
        assert loaded.pid is not None and loaded.expires_at is None
        services.runtime.idle_unloader.keep_alive(services.runtime.engine(loaded.id), 600.0)
        await kill_and_wait_for_reload(services, reloader, loaded.pid)
        reloaded = services.runtime.active_model
        assert reloaded is not None and reloaded.expires_at is not None
        assert services.runtime.engine(reloaded.id).keep_alive_s == 600.0
    finally:
        await reloader.close()

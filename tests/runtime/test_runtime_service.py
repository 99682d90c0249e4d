"""Loading the starter model through the services, chatting, and surviving an engine crash."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from lexitui.domain.enums import ChatRole
from lexitui.events import Event, LocalGenerationCompleted, ModelLoaded, ModelUnloaded
from lexitui.runtime.chat import ChatFinished, ChatMessage, GenerationParams
from lexitui.runtime.service import NoModelLoaded
from lexitui.services import Services
from lexitui.storage.registry import ModelNotFound
from lexitui.storage.starter import STARTER_ID

pytestmark = pytest.mark.engine


async def test_starter_model_is_registered_by_path(services: Services, starter_path: Path) -> None:
    models = await services.registry.list()
    assert [m.id for m in models] == [STARTER_ID]
    assert models[0].path == str(starter_path)
    assert models[0].registered_by_path
    assert not any(services.paths.models_dir.iterdir()), "the starter must not be copied"


async def test_load_chat_and_events(services: Services) -> None:
    seen: list[Event] = []
    services.bus.inference.subscribe(seen.append)
    await services.runtime.load(STARTER_ID)
    messages = [ChatMessage(ChatRole.USER, "Say hi")]
    pieces = [p async for p in services.runtime.chat(messages, GenerationParams(max_tokens=8))]
    done = pieces[-1]
    assert isinstance(done, ChatFinished) and done.text
    assert [type(e) for e in seen] == [ModelLoaded, LocalGenerationCompleted]
    await services.runtime.unload()
    assert isinstance(seen[-1], ModelUnloaded)
    model = await services.registry.get(STARTER_ID)
    assert model.last_used_at is not None


async def test_chat_without_a_model_says_so(services: Services) -> None:
    with pytest.raises(NoModelLoaded):
        async for _ in services.runtime.chat([ChatMessage(ChatRole.USER, "hi")]):
            pass


async def test_unknown_model_is_a_clear_error(services: Services) -> None:
    with pytest.raises(ModelNotFound, match="no installed model"):
        await services.runtime.load("not-installed")


async def test_engine_crash_is_reported_and_the_service_recovers(services: Services) -> None:
    unloaded = asyncio.Event()
    reasons: list[str] = []

    def on_event(event: Event) -> None:
        if isinstance(event, ModelUnloaded):
            reasons.append(event.reason)
            unloaded.set()

    services.bus.inference.subscribe(on_event)
    await services.runtime.load(STARTER_ID)
    pid = services.runtime.engine_pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await asyncio.wait_for(unloaded.wait(), 10)
    assert reasons[0].startswith("engine exited unexpectedly (killed by SIGKILL)")
    assert services.runtime.loaded_model is None
    # The same model loads again after the crash.
    await services.runtime.load(STARTER_ID)
    assert services.runtime.engine_url


async def test_background_start_detects_hardware_and_samples_into_the_store(
    paths: object,
) -> None:
    from lexitui.config import Paths
    from lexitui.events import HardwareDetected

    assert isinstance(paths, Paths)
    services = Services.build(paths)
    seen: list[Event] = []
    services.bus.hardware.subscribe(seen.append)
    await services.start(background=True)
    try:
        for _ in range(100):
            if await services.hardware_history.recent("cpu_percent"):
                break
            await asyncio.sleep(0.05)
        assert services.hardware.last is not None
        assert any(isinstance(e, HardwareDetected) for e in seen)
        assert services.monitor.running
        assert len(await services.hardware_history.recent("cpu_percent")) >= 1
    finally:
        await services.stop()
    assert not services.monitor.running


async def test_back_to_back_questions_on_one_connection_pool(services: Services) -> None:
    await services.runtime.load(STARTER_ID)
    for question in ("Say hi", "Say bye", "Count to three"):
        messages = [ChatMessage(ChatRole.USER, question)]
        pieces = [p async for p in services.runtime.chat(messages, GenerationParams(max_tokens=4))]
        done = pieces[-1]
        assert isinstance(done, ChatFinished) and done.completion_tokens == 4

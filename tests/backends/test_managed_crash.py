"""The managed engine dying, failing to start, losing its port race, stopping and restarting.

Driven through ``BackendManager`` so the status events are the ones a screen would receive.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lexitui.backends.errors import BackendError
from lexitui.backends.manager import BackendManager
from lexitui.config import Paths
from lexitui.domain.backends import GenerationRequest, ModelLoadOptions
from lexitui.domain.enums import BackendStatus, ModelInstanceStatus
from lexitui.engine import process as engine_module
from lexitui.engine.kinds import EngineKind
from lexitui.events import BackendStatusChanged

pytestmark = pytest.mark.engine
SMALL = ModelLoadOptions(context_length=1024)
ASK = GenerationRequest(prompt="Hi", max_tokens=4)


@pytest.fixture
async def manager(paths: Paths) -> AsyncIterator[BackendManager]:
    async with BackendManager(paths) as built:
        yield built


def managed_events(manager: BackendManager) -> list[BackendStatusChanged]:
    events: list[BackendStatusChanged] = []
    manager.status_changes.subscribe(lambda e: events.append(e) if e.name == "llamacpp" else None)
    return events


async def wait_for(events: list[BackendStatusChanged], status: BackendStatus) -> float:
    started = time.monotonic()
    while not any(e.new is status for e in events):
        assert time.monotonic() - started < 10, [e.new for e in events]
        await asyncio.sleep(0.005)
    return time.monotonic() - started


async def test_kill_9_is_an_error_event_with_the_reason_then_restart_works(
    manager: BackendManager, starter_path: Path, engine_kind: EngineKind
) -> None:
    events = managed_events(manager)
    result = await manager.start_managed(starter_path, SMALL)
    assert result.success and result.pid
    assert manager.managed.engine_kind == engine_kind
    instance = await manager.managed.load_model(str(starter_path))
    assert [e.new for e in events] == [BackendStatus.STARTING, BackendStatus.RUNNING]

    os.kill(result.pid, signal.SIGKILL)
    noticed = await wait_for(events, BackendStatus.ERROR)
    assert noticed < 1.0, "the process exit is watched, not polled"
    error = events[-1]
    assert error.old is BackendStatus.RUNNING
    assert error.message.startswith("engine exited unexpectedly (killed by SIGKILL)")
    health = await manager.managed.check_health()
    assert health.status is BackendStatus.ERROR and "SIGKILL" in health.message
    assert instance.status is ModelInstanceStatus.ERROR
    with pytest.raises(BackendError, match="load the model again"):
        await instance.generate(ASK)

    again = await manager.restart_managed()
    assert again.success and again.pid != result.pid
    assert events[-1].new is BackendStatus.RUNNING
    fresh = await manager.managed.load_model(str(starter_path))
    assert (await fresh.generate(ASK)).completion_tokens == 4


async def test_a_port_taken_between_pick_and_bind_is_retried(
    manager: BackendManager,
    starter_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    engine_kind: EngineKind,
) -> None:
    # Another program grabs the port the engine picked (a real listening socket): the engine
    # fails to bind, and the backend starts again on a fresh port.
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    taken = int(squatter.getsockname()[1])
    picks: list[int] = []
    real_free_port = engine_module.free_port

    def pick() -> int:
        port = taken if not picks else real_free_port()
        picks.append(port)
        return port

    monkeypatch.setattr(engine_module, "free_port", pick)
    try:
        result = await manager.start_managed(starter_path, SMALL)
    finally:
        squatter.close()
    assert result.success, result.error
    assert picks[0] == taken and len(picks) == 2
    assert result.endpoint == f"http://127.0.0.1:{picks[1]}"
    assert (await manager.managed.check_health()).status is BackendStatus.RUNNING


async def test_a_bad_model_file_fails_with_the_engine_reason(
    manager: BackendManager, tmp_path: Path, engine_kind: EngineKind
) -> None:
    events = managed_events(manager)
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"NOTAGGUF" + b"\0" * 4096)
    result = await manager.start_managed(bad, SMALL)
    assert not result.success and result.error is not None
    assert re.search("(invalid|bad) magic", result.error)  # llama.cpp's or lexitui's words
    assert [e.new for e in events] == [BackendStatus.STARTING, BackendStatus.ERROR]
    assert re.search("(invalid|bad) magic", events[-1].message)
    missing = await manager.start_managed(tmp_path / "nope.gguf", SMALL)
    assert missing.error is not None and "model file not found" in missing.error
    unknown = await manager.start_managed("no-such-model", SMALL)
    assert unknown.error is not None and "give a .gguf path" in unknown.error


async def test_stop_reports_stopping_then_stopped(
    manager: BackendManager, starter_path: Path
) -> None:
    events = managed_events(manager)
    result = await manager.start_managed(starter_path, SMALL)
    assert result.success
    await manager.stop_managed()
    assert [e.new for e in events] == [
        BackendStatus.STARTING,
        BackendStatus.RUNNING,
        BackendStatus.STOPPING,
        BackendStatus.STOPPED,
    ]
    assert manager.managed.endpoint == "" and manager.managed.pid is None
    health = await manager.managed.check_health()
    assert (health.status, health.message) == (BackendStatus.STOPPED, "not started")
    assert result.pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(result.pid, 0)


def test_an_exit_is_described_by_its_cause() -> None:
    from lexitui.engine.supervisor import STOPPED_FROM_OUTSIDE, describe_exit

    # The engine ends cleanly on SIGTERM: an exit nobody here asked for came from outside.
    assert describe_exit(0) == describe_exit(-signal.SIGTERM) == STOPPED_FROM_OUTSIDE
    assert describe_exit(-signal.SIGKILL) == "engine exited unexpectedly (killed by SIGKILL)"
    assert describe_exit(3) == "engine exited unexpectedly with code 3"

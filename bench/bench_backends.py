"""Backend health checks and crash detection, on loopback with the real embedded engine.

1. Health check latency per backend (median and p95 of 50): the managed llama.cpp engine
   (``/health`` + ``/slots``) and an OpenAI-compatible flavour pointed at the same engine
   (``/v1/models``). Goal: < 20 ms.
2. Time from ``kill -9`` of the managed engine to the ERROR status event, with the health
   monitor at its default 5 s interval. Goal: < 1 s (the exit is watched, not polled).
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import tempfile
import time

from lexitui.backends.base import InferenceBackend
from lexitui.backends.manager import BackendManager
from lexitui.backends.openai_compat import CustomBackend
from lexitui.config import Paths
from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.enums import BackendStatus
from lexitui.events import BackendStatusChanged
from lexitui.storage.starter import starter_model_path

CHECKS = 50
KILLS = 3
OPTIONS = ModelLoadOptions(context_length=1024)


async def latency(backend: InferenceBackend) -> tuple[float, float]:
    await backend.check_health()  # warm the connection, as the monitor's steady state is
    samples = []
    for _ in range(CHECKS):
        started = time.perf_counter()
        health = await backend.check_health()
        samples.append((time.perf_counter() - started) * 1000)
        assert health.status is BackendStatus.RUNNING, health
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


async def kill_to_event(manager: BackendManager) -> float:
    errors: asyncio.Queue[float] = asyncio.Queue()

    def on_event(event: BackendStatusChanged) -> None:
        if event.name == "llamacpp" and event.new is BackendStatus.ERROR:
            errors.put_nowait(time.perf_counter())

    subscription = manager.status_changes.subscribe(on_event)
    try:
        pid = manager.managed.pid
        assert pid is not None
        killed = time.perf_counter()
        os.kill(pid, signal.SIGKILL)
        noticed = await asyncio.wait_for(errors.get(), 30)
        return (noticed - killed) * 1000
    finally:
        subscription.dispose()


async def main() -> None:
    model = starter_model_path()
    assert model is not None, "install the starter model (make run)"
    with tempfile.TemporaryDirectory() as home:
        os.environ["LEXITUI_HOME"] = home
        async with BackendManager(Paths.from_env()) as manager:
            result = await manager.start_managed(model, OPTIONS)
            assert result.success and result.endpoint, result.error
            # The engine answers only requests that carry its secret.
            key = manager.managed.api_key
            flavour = CustomBackend("openai-compatible", f"{result.endpoint}/v1", api_key=key)
            rows = [
                ("managed llama.cpp (/health + /slots)", await latency(manager.managed)),
                ("OpenAI-compatible flavour (/v1/models)", await latency(flavour)),
            ]
            await flavour.aclose()
            manager.start()  # the monitor, at its default interval
            kills = []
            for _ in range(KILLS):
                kills.append(await kill_to_event(manager))
                assert (await manager.restart_managed()).success
    print(f"| health check on loopback ({CHECKS} checks) | median ms | p95 ms | goal |")
    print("|---|---|---|---|")
    for name, (median, p95) in rows:
        print(f"| {name} | {median:.2f} | {p95:.2f} | < 20 ms |")
    print()
    print(f"| kill -9 of the managed engine -> ERROR event ({KILLS} runs) | ms | goal |")
    print("|---|---|---|")
    interval = manager.monitor.interval
    for i, ms in enumerate(kills, 1):
        print(f"| run {i} (monitor interval {interval:g} s) | {ms:.1f} | < 1000 ms |")


if __name__ == "__main__":
    asyncio.run(main())

"""What ``GET /lexitui/v1/status`` answers: this machine as another lexitui sees it as a host.

The hardware (CPU, RAM, each GPU's utilisation, VRAM and temperature) is the monitor's last
sample, taken afresh when older than ``FRESH_S``; the engines, the installed and loaded models,
the requests answering or waiting for a slot (the runtime's ``in_line``) and the KV cache in use
come from the runtime. No key, path or prompt is in it.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from lexitui.domain.models import InstalledModel
from lexitui.domain.samples import HardwareSample
from lexitui.hardware.monitor import HardwareMonitor
from lexitui.runtime.manager import InferenceManager

FRESH_S = 2.0  # a sample younger than this is shown as it is
StatusSource = Callable[[], Awaitable[dict[str, Any]]]


class StatusSnapshot:
    """Builds the status document from the services' runtime, monitor and installed models."""

    def __init__(
        self,
        runtime: InferenceManager,
        monitor: HardwareMonitor,
        installed: Callable[[], Awaitable[list[InstalledModel]]],
    ) -> None:
        self._runtime = runtime
        self._monitor = monitor
        self._installed = installed

    async def __call__(self) -> dict[str, Any]:
        sample = await self._sample()
        runtime = self._runtime
        loaded = runtime.loaded_models()
        engines = []
        kv_used = kv_size = 0
        for engine in loaded:
            resources = engine.resources
            kv_used += resources.context_used
            kv_size += resources.context_size
            engines.append(
                {
                    "model": engine.model.id,
                    "backend": engine.backend,
                    "status": engine.status.value,
                    "gpu_layers": resources.gpu_layers,
                    "cpu_layers": resources.cpu_layers,
                    "active_requests": engine.active_requests,
                    "total_requests": engine.metrics.total_requests,
                }
            )
        held, slots = runtime.in_line
        running = min(runtime.active_requests, held)
        return {
            "host": socket.gethostname(),
            "time": datetime.now(UTC).isoformat(),
            "hardware": hardware_json(sample),
            "engines": engines,
            "models": {
                "installed": [m.id for m in await self._installed()],
                "loaded": [e.model.id for e in loaded],
            },
            "requests": {"running": running, "waiting": held - running, "slots": slots},
            "kv_cache": {"used_ratio": kv_used / kv_size if kv_size else None},
        }

    async def _sample(self) -> HardwareSample:
        latest = self._monitor.latest
        if latest is not None:
            age = (datetime.now(UTC) - latest.timestamp).total_seconds()
            if age < FRESH_S:
                return latest
        return await self._monitor.sample_once()


def hardware_json(sample: HardwareSample) -> dict[str, Any]:
    return {
        "cpu_percent": sample.cpu_percent,
        "ram_total_bytes": sample.ram_total_bytes,
        "ram_available_bytes": sample.ram_available_bytes,
        "gpus": [
            {
                "id": gpu.id,
                "name": gpu.name,
                "utilization_percent": gpu.utilization_percent,
                "vram_total_bytes": gpu.vram_total_bytes,
                "vram_free_bytes": gpu.vram_free_bytes,
                "temperature_c": gpu.temperature_c,
            }
            for gpu in sample.gpus
        ],
    }

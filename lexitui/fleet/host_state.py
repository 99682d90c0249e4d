"""``HostState``: what the last probe of one host found (health, latency, load, models, GPUs)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HostGpu:
    name: str
    utilization_percent: float | None = None
    vram_used_bytes: int | None = None
    vram_total_bytes: int | None = None
    temperature_c: float | None = None


@dataclass(frozen=True)
class HostEngine:
    """One engine a lexitui host has loaded, as its status tells it."""

    model: str
    backend: str
    status: str
    gpu_layers: int | None = None
    cpu_layers: int | None = None
    active_requests: int = 0
    total_requests: int = 0


@dataclass(frozen=True)
class HostState:
    """``healthy`` False always carries ``reason``; ``checked_at`` is ``time.monotonic()``."""

    name: str
    kind: str
    url: str
    healthy: bool
    reason: str = "ready"
    latency_ms: float | None = None
    checked_at: float = field(default_factory=time.monotonic)
    running: int = 0
    waiting: int = 0
    kv_used: float | None = None  # 0..1, when the host says
    models: tuple[str, ...] = ()  # what it answers to
    loaded: tuple[str, ...] = ()
    gpus: tuple[HostGpu, ...] = ()
    engines: tuple[HostEngine, ...] = ()
    cpu_percent: float | None = None
    ram_used_bytes: int | None = None
    ram_total_bytes: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "url": self.url,
            "healthy": self.healthy,
            "reason": self.reason,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "running": self.running,
            "waiting": self.waiting,
            "kv_used": self.kv_used,
            "models": list(self.models),
            "loaded": list(self.loaded),
            "cpu_percent": self.cpu_percent,
            "ram_used_bytes": self.ram_used_bytes,
            "ram_total_bytes": self.ram_total_bytes,
            "gpus": [vars(gpu) for gpu in self.gpus],
            "engines": [vars(engine) for engine in self.engines],
        }


def down(name: str, kind: str, url: str, reason: str, latency_ms: float | None = None) -> HostState:
    return HostState(name, kind, url, False, reason, latency_ms)

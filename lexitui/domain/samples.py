"""The records of one hardware sample (CPU, RAM, each GPU) and the names its figures are kept
under in the history: shared by the live monitor, the store's history and the screens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lexitui.domain.hardware import GpuInfo


@dataclass(frozen=True)
class GpuSample:
    id: str
    name: str
    vram_total_bytes: int
    vram_free_bytes: int | None
    utilization_percent: float | None
    temperature_c: float | None
    power_watts: float | None

    @property
    def vram_free_percent(self) -> float | None:
        if self.vram_free_bytes is None or self.vram_total_bytes <= 0:
            return None
        return 100.0 * self.vram_free_bytes / self.vram_total_bytes

    @classmethod
    def of(cls, gpu: GpuInfo) -> GpuSample:
        return cls(
            gpu.id,
            gpu.name,
            gpu.vram_bytes,
            gpu.available_vram_bytes,
            gpu.utilization_percent,
            gpu.temperature_c,
            gpu.power_watts,
        )


@dataclass(frozen=True)
class HardwareSample:
    timestamp: datetime
    cpu_percent: float
    ram_total_bytes: int
    ram_available_bytes: int
    gpus: tuple[GpuSample, ...]

    @property
    def ram_available_percent(self) -> float:
        return (
            100.0 * self.ram_available_bytes / self.ram_total_bytes if self.ram_total_bytes else 0.0
        )


def gpu_metric(gpu_id: str, name: str) -> str:
    """History key of one GPU metric, e.g. "gpu:nvidia:0:utilization_percent"."""
    return f"gpu:{gpu_id}:{name}"

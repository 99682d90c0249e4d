"""Records of the inference resource monitor (roadmap v0.16.4h): what the machine and the loaded
models use right now, whether a load would fit, and when to raise an alert."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

# Re-exported: the records and their enum come from one module.
from lexitui.domain.enums import ResourceType as ResourceType


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class GpuResourceUsage:
    gpu_id: str
    gpu_name: str
    vram_total_bytes: int = 0
    vram_used_bytes: int = 0
    vram_models_bytes: int = 0
    gpu_utilization_percent: float = 0.0
    temperature_celsius: float | None = None
    power_watts: float | None = None


@dataclass(frozen=True)
class InferenceResourceUsage:
    timestamp: datetime = field(default_factory=_now)
    system_ram_bytes: int = 0
    system_ram_used_bytes: int = 0
    process_ram_bytes: int = 0  # lexitui itself
    models_ram_bytes: int = 0  # the engine processes serving loaded models
    gpu_usage: tuple[GpuResourceUsage, ...] = ()
    cpu_usage_percent: float = 0.0
    process_cpu_percent: float = 0.0
    active_models: int = 0
    active_requests: int = 0
    current_tokens_per_second: float = 0.0


@dataclass(frozen=True)
class ResourceRequirements:
    ram_bytes: int
    vram_bytes: int | None = None
    gpu_layers: int | None = None


@dataclass(frozen=True)
class ResourceIssue:
    resource: ResourceType
    message: str
    required: int = 0
    available: int = 0


@dataclass(frozen=True)
class ResourceCheck:
    is_sufficient: bool
    issues: tuple[ResourceIssue, ...] = ()
    suggestion: str | None = None


@dataclass(frozen=True)
class ResourceAlertConfig:
    """Percent thresholds; ``None`` turns an alert off. An alert fires when a reading crosses
    its threshold and again only after the reading has dropped back below it."""

    ram_percent: float | None = 90.0
    vram_percent: float | None = 95.0
    cpu_percent: float | None = None
    gpu_temperature_celsius: float | None = 85.0

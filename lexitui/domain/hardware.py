"""Hardware records: what the detector found and what it recommends.

These are the roadmap's ``HardwareCapabilities``/``CpuInfo``/``GpuInfo``/``ModelSizeRecommendation``
records as frozen dataclasses. Collections are tuples so a record really is immutable (the UI and
the monitor share them across tasks). ``to_json_dict()`` gives the one stable JSON shape used by
``lexitui hw --json``, the store and the tests: snake_case keys, enums as their values.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from lexitui.domain.enums import (
    CompatibilityLevel,
    GpuBackend,
    GpuVendor,
    InferenceBackendType,
    InferenceMode,
    ModelSizeCategory,
    QuantizationType,
)


def to_json_dict(record: Any) -> dict[str, Any]:
    """A dataclass record as plain JSON types, plus the derived values from ``_json_extras``."""
    if not dataclasses.is_dataclass(record) or isinstance(record, type):
        raise TypeError(f"expected a dataclass record, got {type(record).__name__}")
    out: dict[str, Any] = {
        f.name: _json_value(getattr(record, f.name)) for f in dataclasses.fields(record)
    }
    extras = getattr(record, "_json_extras", None)
    if callable(extras):
        out.update({k: _json_value(v) for k, v in extras().items()})
    return out


def _json_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_json_dict(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


class JsonRecord:
    """Mixin: ``record.to_json_dict()``."""

    def to_json_dict(self) -> dict[str, Any]:
        return to_json_dict(self)


@dataclass(frozen=True)
class CpuInfo(JsonRecord):
    name: str
    physical_cores: int
    logical_cores: int
    l3_cache_bytes: int | None = None
    supports_avx: bool = False
    supports_avx2: bool = False
    supports_avx512: bool = False


@dataclass(frozen=True)
class GpuProcess(JsonRecord):
    """A process holding GPU memory; ``used_memory_bytes`` is None where the driver hides it."""

    pid: int
    name: str
    used_memory_bytes: int | None = None


@dataclass(frozen=True)
class GpuInfo(JsonRecord):
    """One GPU (or one MIG instance) that inference could use.

    ``id`` is unique across vendors ("nvidia:0", "nvidia:0:mig1", "amd:card1", "apple:0") and is
    what ``HardwareSettings.allowed_gpus`` lists; NVIDIA ids keep NVML's (= nvidia-smi's) index.
    """

    id: str
    name: str
    vendor: GpuVendor
    vram_bytes: int
    supported_backend: GpuBackend
    uuid: str | None = None
    available_vram_bytes: int | None = None
    driver_version: str | None = None
    compute_capability: str | None = None  # CUDA "major.minor", e.g. "9.0"
    is_integrated: bool = False
    is_mig: bool = False
    utilization_percent: float | None = None
    temperature_c: float | None = None
    power_watts: float | None = None
    processes: tuple[GpuProcess, ...] = ()

    @property
    def compute_capability_int(self) -> int | None:
        """The roadmap's integer form: "9.0" -> 90, "8.6" -> 86."""
        if not self.compute_capability:
            return None
        major, _, minor = self.compute_capability.partition(".")
        try:
            return int(major) * 10 + int(minor or "0")
        except ValueError:
            return None

    @property
    def used_vram_bytes(self) -> int | None:
        if self.available_vram_bytes is None:
            return None
        return max(0, self.vram_bytes - self.available_vram_bytes)

    def _json_extras(self) -> dict[str, Any]:
        return {"compute_capability_int": self.compute_capability_int}


@dataclass(frozen=True)
class BackendSupport(JsonRecord):
    backend: InferenceBackendType
    supported: bool
    reason: str


@dataclass(frozen=True)
class ModelSizeOption(JsonRecord):
    """One cell of the size x quantization table.

    ``estimated_tokens_per_second`` is a single-stream decode estimate from memory bandwidth, not
    a measurement; ``mode`` says where the weights would live.
    """

    size: ModelSizeCategory
    quantization: QuantizationType
    compatibility: CompatibilityLevel
    estimated_memory_bytes: int
    estimated_tokens_per_second: float | None = None
    mode: InferenceMode = InferenceMode.CPU_ONLY


@dataclass(frozen=True)
class ModelSizeRecommendation(JsonRecord):
    max_recommended_size: ModelSizeCategory
    recommended_quantization: QuantizationType
    recommended_context_length: int
    estimated_gpu_layers: int
    recommended_mode: InferenceMode
    explanation: str | None = None
    available_options: tuple[ModelSizeOption, ...] = ()

    def option(self, size: ModelSizeCategory, quant: QuantizationType) -> ModelSizeOption | None:
        for candidate in self.available_options:
            if candidate.size is size and candidate.quantization is quant:
                return candidate
        return None


@dataclass(frozen=True)
class HardwareCapabilities(JsonRecord):
    operating_system: str  # "linux", "darwin", "windows"
    architecture: str  # "x64", "arm64" (the roadmap's spelling), else platform.machine()
    cpu: CpuInfo
    total_ram_bytes: int
    available_ram_bytes: int
    available_disk_bytes: int
    model_storage_path: str
    recommendation: ModelSizeRecommendation
    gpus: tuple[GpuInfo, ...] = ()
    # Every probe fails soft: what failed, and why, is said here instead of raising.
    probe_notes: tuple[str, ...] = ()

    @property
    def primary_gpu(self) -> GpuInfo | None:
        return self.gpus[0] if self.gpus else None

    @property
    def total_vram_bytes(self) -> int:
        return sum(g.vram_bytes for g in self.gpus)

    def _json_extras(self) -> dict[str, Any]:
        primary = self.primary_gpu
        return {
            "total_vram_bytes": self.total_vram_bytes,
            "primary_gpu_id": primary.id if primary else None,
        }

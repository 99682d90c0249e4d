"""Plain records of one NVML reading, the ``NvmlReader`` protocol, and their JSON form.

Everything NVIDIA-specific above the adapter works on these records, never on pynvml handles, so
recorded readings (``RecordedNvml``) and the real driver (``PynvmlReader``) are interchangeable.
The JSON form is what ``bench/gpu_check.py --record`` writes and the test fixtures hold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

# NVML's C error codes (nvml.h); stable across driver versions, so recordings can name them.
ERROR_UNINITIALIZED = 1
ERROR_NOT_SUPPORTED = 3
ERROR_NO_PERMISSION = 4
ERROR_DRIVER_NOT_LOADED = 9
ERROR_LIBRARY_NOT_FOUND = 12
ERROR_FUNCTION_NOT_FOUND = 13
ERROR_GPU_IS_LOST = 15
ERROR_LIB_RM_VERSION_MISMATCH = 18
ERROR_UNKNOWN = 999

_REASONS = {
    ERROR_DRIVER_NOT_LOADED: "NVIDIA driver not loaded",
    ERROR_LIBRARY_NOT_FOUND: "NVIDIA driver not loaded (libnvidia-ml not found)",
    ERROR_LIB_RM_VERSION_MISMATCH: (
        "driver/library version mismatch (the NVIDIA driver was updated; reboot or reload the "
        "kernel module)"
    ),
    ERROR_NO_PERMISSION: "no permission to query the NVIDIA driver",
    ERROR_GPU_IS_LOST: "a GPU fell off the bus (GPU is lost)",
    ERROR_FUNCTION_NOT_FOUND: "the NVIDIA driver is too old for this query",
    ERROR_UNINITIALIZED: "NVML is not initialised",
}


def reason_for_code(code: int, fallback: str = "") -> str:
    """A sentence a user can act on, for an NVML error code."""
    return _REASONS.get(code) or (
        f"NVML error {code}: {fallback}" if fallback else f"NVML error {code}"
    )


class NvmlUnavailable(Exception):
    """NVML cannot be read at all; ``reason`` is the readable why, ``code`` NVML's number."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class NvmlProcessReading:
    pid: int
    name: str
    used_memory_bytes: int | None = None


@dataclass(frozen=True)
class NvmlMigReading:
    """One MIG instance of a GPU in MIG mode (CUDA sees these, not the parent)."""

    index: int
    uuid: str
    name: str
    memory_total: int
    memory_free: int
    memory_used: int


@dataclass(frozen=True)
class NvmlDeviceReading:
    """One physical GPU; any reading the driver refuses (NOT_SUPPORTED on MIG/vGPU) is None."""

    index: int
    uuid: str
    name: str
    memory_total: int
    memory_free: int
    memory_used: int
    compute_capability: tuple[int, int] | None = None
    utilization_gpu: int | None = None
    temperature_c: int | None = None
    power_mw: int | None = None
    energy_mj: int | None = None  # total energy since the driver loaded (Volta and newer)
    pci_bus_id: str | None = None
    mig_enabled: bool = False
    mig_devices: tuple[NvmlMigReading, ...] = ()
    processes: tuple[NvmlProcessReading, ...] = ()


@dataclass(frozen=True)
class NvmlSnapshot:
    driver_version: str
    cuda_driver_version: int | None = None  # NVML's int form: 12040 is CUDA 12.4
    devices: tuple[NvmlDeviceReading, ...] = field(default=())

    @property
    def cuda_version(self) -> str | None:
        v = self.cuda_driver_version
        return None if v is None else f"{v // 1000}.{(v % 1000) // 10}"


class NvmlReader(Protocol):
    """The one seam between lexitui and NVML."""

    def read(self, *, processes: bool = True) -> NvmlSnapshot:
        """One reading of every GPU; raises ``NvmlUnavailable`` when NVML cannot be used."""
        ...

    def close(self) -> None: ...


def snapshot_to_dict(snapshot: NvmlSnapshot) -> dict[str, Any]:
    """The JSON shape of a reading (tuples become lists, as they would after a JSON round trip)."""
    data: dict[str, Any] = _lists(asdict(snapshot))
    for device in data["devices"]:
        if device.get("energy_mj") is None:  # recordings made before energy was read lack it
            device.pop("energy_mj", None)
    return data


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    return value


def snapshot_from_dict(data: dict[str, Any]) -> NvmlSnapshot:
    """Inverse of ``snapshot_to_dict``; a bad recording raises ``ValueError`` naming the field."""
    try:
        devices = tuple(_device_from_dict(d) for d in data.get("devices", ()))
        cuda = data.get("cuda_driver_version")
        return NvmlSnapshot(
            driver_version=str(data["driver_version"]),
            cuda_driver_version=None if cuda is None else int(cuda),
            devices=devices,
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"bad NVML recording: {exc!r}") from exc


def _device_from_dict(d: dict[str, Any]) -> NvmlDeviceReading:
    cc = d.get("compute_capability")
    return NvmlDeviceReading(
        index=int(d["index"]),
        uuid=str(d["uuid"]),
        name=str(d["name"]),
        memory_total=int(d["memory_total"]),
        memory_free=int(d["memory_free"]),
        memory_used=int(d["memory_used"]),
        compute_capability=None if cc is None else (int(cc[0]), int(cc[1])),
        utilization_gpu=_opt_int(d.get("utilization_gpu")),
        temperature_c=_opt_int(d.get("temperature_c")),
        power_mw=_opt_int(d.get("power_mw")),
        energy_mj=_opt_int(d.get("energy_mj")),
        pci_bus_id=d.get("pci_bus_id"),
        mig_enabled=bool(d.get("mig_enabled", False)),
        mig_devices=tuple(NvmlMigReading(**m) for m in d.get("mig_devices", ())),
        processes=tuple(NvmlProcessReading(**p) for p in d.get("processes", ())),
    )


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)

"""NVIDIA GPUs as lexitui sees them: NVML readings turned into ``GpuInfo``, filtered the way CUDA
filters them with ``CUDA_VISIBLE_DEVICES``.

The engines lexitui starts inherit ``CUDA_VISIBLE_DEVICES``, so a GPU hidden by it is a GPU they
cannot use and must not count towards a recommendation. We follow CUDA's rules: a list of indices
or ``GPU-``/``MIG-`` UUIDs (a unique prefix is enough), read up to the first invalid entry; an
empty value or ``-1`` hides every GPU. A GPU in MIG mode is usable only through its instances, so
each instance becomes its own ``GpuInfo``.
"""

from __future__ import annotations

from lexitui.domain.enums import GpuBackend, GpuVendor
from lexitui.domain.hardware import GpuInfo, GpuProcess
from lexitui.hardware.nvml_snapshot import NvmlDeviceReading, NvmlMigReading, NvmlSnapshot

VISIBLE_ENV = "CUDA_VISIBLE_DEVICES"


def parse_cuda_visible_devices(value: str | None) -> list[str] | None:
    """The entries CUDA will honour, or None when the variable is unset (every GPU visible)."""
    if value is None:
        return None
    entries: list[str] = []
    for raw in value.split(","):
        token = raw.strip()
        if token.lstrip("-").isdigit():
            if int(token) < 0:
                break  # CUDA stops at the first invalid entry; "-1" alone hides everything
            entries.append(str(int(token)))
        elif token.upper().startswith(("GPU-", "MIG-")):
            entries.append(token)
        else:
            break
    return entries


def gpu_infos(snapshot: NvmlSnapshot, visible: str | None, notes: list[str]) -> list[GpuInfo]:
    """Every GPU CUDA would see, in CUDA's order, as ``GpuInfo`` records."""
    entries = parse_cuda_visible_devices(visible)
    if entries is None:
        chosen: list[tuple[NvmlDeviceReading, NvmlMigReading | None]] = [
            (d, None) for d in snapshot.devices
        ]
    else:
        chosen = _select(snapshot, entries, notes)
        hidden = len(snapshot.devices) - len({d.index for d, _ in chosen})
        if hidden > 0:
            notes.append(f"nvidia: {hidden} GPU(s) hidden by {VISIBLE_ENV}={visible!r}")
    out: list[GpuInfo] = []
    for device, instance in chosen:
        if instance is not None:
            out.append(_mig_info(snapshot, device, instance))
        elif device.mig_enabled:
            if not device.mig_devices:
                notes.append(
                    f"nvidia: GPU {device.index} ({device.name}) is in MIG mode with no MIG "
                    "instances; CUDA cannot use it until instances are created"
                )
            out.extend(_mig_info(snapshot, device, m) for m in device.mig_devices)
        else:
            out.append(_device_info(snapshot, device))
    return out


def _select(
    snapshot: NvmlSnapshot, entries: list[str], notes: list[str]
) -> list[tuple[NvmlDeviceReading, NvmlMigReading | None]]:
    # NVML numbers GPUs in PCI order; CUDA does too when CUDA_DEVICE_ORDER=PCI_BUS_ID, which every
    # multi-GPU setup guide sets. Without it CUDA's "fastest first" order can differ on mixed boxes.
    chosen: list[tuple[NvmlDeviceReading, NvmlMigReading | None]] = []
    by_index = {str(d.index): d for d in snapshot.devices}
    for entry in entries:
        found = _lookup(snapshot, by_index, entry)
        if found is None:
            notes.append(f"nvidia: {VISIBLE_ENV} entry {entry!r} matches no GPU; CUDA stops there")
            break
        if found not in chosen:
            chosen.append(found)
    return chosen


def _lookup(
    snapshot: NvmlSnapshot, by_index: dict[str, NvmlDeviceReading], entry: str
) -> tuple[NvmlDeviceReading, NvmlMigReading | None] | None:
    if entry in by_index:
        return by_index[entry], None
    prefix = entry.upper()
    if prefix.startswith("GPU-"):
        devices = [d for d in snapshot.devices if d.uuid.upper().startswith(prefix)]
        return (devices[0], None) if len(devices) == 1 else None
    pairs = [
        (d, m) for d in snapshot.devices for m in d.mig_devices if m.uuid.upper().startswith(prefix)
    ]
    return pairs[0] if len(pairs) == 1 else None


def _compute_capability(device: NvmlDeviceReading) -> str | None:
    cc = device.compute_capability
    return None if cc is None else f"{cc[0]}.{cc[1]}"


def _device_info(snapshot: NvmlSnapshot, device: NvmlDeviceReading) -> GpuInfo:
    return GpuInfo(
        id=f"nvidia:{device.index}",
        uuid=device.uuid,
        name=device.name,
        vendor=GpuVendor.NVIDIA,
        vram_bytes=device.memory_total,
        available_vram_bytes=device.memory_free,
        supported_backend=GpuBackend.CUDA,
        driver_version=snapshot.driver_version,
        compute_capability=_compute_capability(device),
        utilization_percent=None
        if device.utilization_gpu is None
        else float(device.utilization_gpu),
        temperature_c=None if device.temperature_c is None else float(device.temperature_c),
        power_watts=None if device.power_mw is None else device.power_mw / 1000.0,
        processes=tuple(GpuProcess(p.pid, p.name, p.used_memory_bytes) for p in device.processes),
    )


def _mig_info(snapshot: NvmlSnapshot, device: NvmlDeviceReading, mig: NvmlMigReading) -> GpuInfo:
    # Temperature and power belong to the physical board, shared by its instances; utilisation
    # is not reported per instance by NVML, so it stays unknown.
    return GpuInfo(
        id=f"nvidia:{device.index}:mig{mig.index}",
        uuid=mig.uuid,
        name=mig.name,
        vendor=GpuVendor.NVIDIA,
        vram_bytes=mig.memory_total,
        available_vram_bytes=mig.memory_free,
        supported_backend=GpuBackend.CUDA,
        driver_version=snapshot.driver_version,
        compute_capability=_compute_capability(device),
        is_mig=True,
        temperature_c=None if device.temperature_c is None else float(device.temperature_c),
        power_watts=None if device.power_mw is None else device.power_mw / 1000.0,
    )

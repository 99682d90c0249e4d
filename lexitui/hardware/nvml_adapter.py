"""The one module that touches ``pynvml``: it turns NVML calls into ``NvmlSnapshot`` records.

NVML is initialised once and kept open, because ``nvmlInit`` costs tens of milliseconds and the
monitor reads every couple of seconds. Whole-NVML failures (no driver, version mismatch) become
``NvmlUnavailable`` with a readable reason; a single reading a device refuses (NOT_SUPPORTED on
MIG parents, vGPUs, some consumer cards) becomes None and the rest of the reading survives.

``python -m lexitui.hardware.nvml_adapter`` prints one reading as JSON: the recording format the
test fixtures use, so a new machine's behaviour can be captured and replayed.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from lexitui.hardware.nvml_snapshot import (
    ERROR_GPU_IS_LOST,
    NvmlDeviceReading,
    NvmlMigReading,
    NvmlProcessReading,
    NvmlSnapshot,
    NvmlUnavailable,
    reason_for_code,
    snapshot_to_dict,
)

T = TypeVar("T")


def _text(value: Any) -> str:
    # Older pynvml releases return bytes, newer ones str.
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class PynvmlReader:
    """``NvmlReader`` over the real driver. Thread-safe: detection and the monitor share it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._initialised = False
        self._nvml: Any = None

    def _module(self) -> Any:
        if self._nvml is None:
            try:
                import pynvml
            except ImportError as exc:  # the wheel is a dependency, but fail soft anyway
                raise NvmlUnavailable(f"pynvml is not installed ({exc})") from exc
            self._nvml = pynvml
        return self._nvml

    def _unavailable(self, exc: Exception) -> NvmlUnavailable:
        code = getattr(exc, "value", None)
        code = code if isinstance(code, int) else None
        reason = reason_for_code(code, str(exc)) if code is not None else str(exc)
        return NvmlUnavailable(reason, code)

    def read(self, *, processes: bool = True) -> NvmlSnapshot:
        nvml = self._module()
        with self._lock:
            try:
                if not self._initialised:
                    nvml.nvmlInit()
                    self._initialised = True
                driver = _text(nvml.nvmlSystemGetDriverVersion())
                cuda = self._soft(nvml.nvmlSystemGetCudaDriverVersion)
                count = int(nvml.nvmlDeviceGetCount())
                devices = []
                for index in range(count):
                    reading = self._device(nvml, index, processes)
                    if reading is not None:
                        devices.append(reading)
            except nvml.NVMLError as exc:
                # Start over next time: after a driver reload the old session is dead.
                self._shutdown_locked()
                raise self._unavailable(exc) from exc
        return NvmlSnapshot(driver, None if cuda is None else int(cuda), tuple(devices))

    def _soft(self, call: Callable[..., T], *args: Any) -> T | None:
        nvml = self._module()
        try:
            return call(*args)
        except nvml.NVMLError as exc:
            if getattr(exc, "value", None) == ERROR_GPU_IS_LOST:
                raise
            return None

    def _device(self, nvml: Any, index: int, processes: bool) -> NvmlDeviceReading | None:
        try:
            return self._device_reading(nvml, index, processes)
        except nvml.NVMLError as exc:
            if getattr(exc, "value", None) == ERROR_GPU_IS_LOST:
                return None  # it vanished mid-read; the monitor reports it as removed
            raise

    def _device_reading(self, nvml: Any, index: int, processes: bool) -> NvmlDeviceReading:
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        memory = nvml.nvmlDeviceGetMemoryInfo(handle)
        uuid = _text(nvml.nvmlDeviceGetUUID(handle))
        name = _text(nvml.nvmlDeviceGetName(handle))
        cc = self._soft(nvml.nvmlDeviceGetCudaComputeCapability, handle)
        util = self._soft(nvml.nvmlDeviceGetUtilizationRates, handle)
        temp = self._soft(nvml.nvmlDeviceGetTemperature, handle, nvml.NVML_TEMPERATURE_GPU)
        power = self._soft(nvml.nvmlDeviceGetPowerUsage, handle)
        energy = self._soft(nvml.nvmlDeviceGetTotalEnergyConsumption, handle)
        pci = self._soft(nvml.nvmlDeviceGetPciInfo, handle)
        mig_mode = self._soft(nvml.nvmlDeviceGetMigMode, handle)
        mig_enabled = bool(mig_mode and mig_mode[0] == nvml.NVML_DEVICE_MIG_ENABLE)
        return NvmlDeviceReading(
            index=index,
            uuid=uuid,
            name=name,
            memory_total=int(memory.total),
            memory_free=int(memory.free),
            memory_used=int(memory.used),
            compute_capability=None if cc is None else (int(cc[0]), int(cc[1])),
            utilization_gpu=None if util is None else int(util.gpu),
            temperature_c=None if temp is None else int(temp),
            power_mw=None if power is None else int(power),
            energy_mj=None if energy is None else int(energy),
            pci_bus_id=None if pci is None else _text(pci.busId),
            mig_enabled=mig_enabled,
            mig_devices=self._mig_devices(nvml, handle) if mig_enabled else (),
            processes=self._processes(nvml, handle) if processes else (),
        )

    def _mig_devices(self, nvml: Any, handle: Any) -> tuple[NvmlMigReading, ...]:
        found: list[NvmlMigReading] = []
        for i in range(int(self._soft(nvml.nvmlDeviceGetMaxMigDeviceCount, handle) or 0)):
            child = self._soft(nvml.nvmlDeviceGetMigDeviceHandleByIndex, handle, i)
            if child is None:
                continue  # slot i holds no instance
            memory = self._soft(nvml.nvmlDeviceGetMemoryInfo, child)
            if memory is None:
                continue
            found.append(
                NvmlMigReading(
                    index=i,
                    uuid=_text(nvml.nvmlDeviceGetUUID(child)),
                    name=_text(self._soft(nvml.nvmlDeviceGetName, child) or "MIG instance"),
                    memory_total=int(memory.total),
                    memory_free=int(memory.free),
                    memory_used=int(memory.used),
                )
            )
        return tuple(found)

    def _processes(self, nvml: Any, handle: Any) -> tuple[NvmlProcessReading, ...]:
        running = self._soft(nvml.nvmlDeviceGetComputeRunningProcesses, handle) or []
        out = []
        for proc in running:
            pid = int(proc.pid)
            name = self._soft(nvml.nvmlSystemGetProcessName, pid)
            used = getattr(proc, "usedGpuMemory", None)  # None inside many containers
            out.append(
                NvmlProcessReading(
                    pid, _text(name) if name else f"pid {pid}", None if used is None else int(used)
                )
            )
        return tuple(out)

    def _shutdown_locked(self) -> None:
        if self._initialised:
            self._initialised = False
            # Shutting down a broken session must not raise over the error that broke it.
            with contextlib.suppress(Exception):
                self._module().nvmlShutdown()

    def close(self) -> None:
        with self._lock:
            self._shutdown_locked()


def main() -> int:
    reader = PynvmlReader()
    try:
        snapshot = reader.read()
    except NvmlUnavailable as exc:
        print(json.dumps({"error": {"code": exc.code, "reason": exc.reason}}, indent=2))
        return 1
    finally:
        reader.close()
    print(json.dumps({"snapshots": [snapshot_to_dict(snapshot)]}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

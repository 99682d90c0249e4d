"""The energy one local request used, and what that electricity cost.

Three ways to measure, best first:

1. ``nvml-energy``: NVML's total-energy counter (millijoules since the driver loaded), read
   before and after. A real measurement, so it is used as is.
2. ``gpu-power``: when the GPU has no energy counter (pre-Volta, some vGPUs), its power reading
   after the request (NVML averages it over about a second, so it reflects the load) minus the
   idle baseline, times the duration. The baseline is the lowest power this meter has seen on
   the device, as readings taken before requests are usually taken at idle; only the extra
   draw is charged to the request, because the idle draw is paid whether or not it runs.
3. ``cpu-estimate``: no GPU reading at all. ``[costs] cpu_watts`` (the CPU's draw under load)
   times the duration times the share of CPU time that was busy. Deliberately simple: the busy
   share is the whole machine's, so other work running meanwhile is counted too.

NVML is reached only through the hardware area's adapter (``NvmlReader``); tests feed recorded
readings. Readings block for milliseconds, so async callers use ``abegin``/``aend``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import psutil

from lexitui.hardware.nvml_snapshot import NvmlReader, NvmlUnavailable
from lexitui.routing.settings import CostSettings

NVML_ENERGY = "nvml-energy"
GPU_POWER = "gpu-power"
CPU_ESTIMATE = "cpu-estimate"
_MJ_PER_WH = 3_600_000  # 1 Wh = 3600 J = 3,600,000 mJ
_KWH = Decimal(1000)
# Electricity is stored to a millionth of a millionth of a dollar: far below any real bill, and
# it keeps float noise from the energy figure (1.9999999999999998 Wh) out of the stored sums.
_USD_STEP = Decimal("1e-12")


@dataclass(frozen=True)
class GpuEnergyReading:
    """One GPU at one moment: its energy counter (mJ) and power draw (mW), None if refused."""

    index: int
    energy_mj: int | None
    power_mw: int | None


class GpuEnergySource(Protocol):
    def read(self) -> tuple[GpuEnergyReading, ...]:
        """Every GPU now; raises ``NvmlUnavailable`` when none can be read."""
        ...


class NvmlEnergySource:
    """Energy readings over the hardware area's one NVML adapter."""

    def __init__(self, reader: NvmlReader) -> None:
        self._reader = reader

    def read(self) -> tuple[GpuEnergyReading, ...]:
        snapshot = self._reader.read(processes=False)
        # ``energy_mj`` is None where the driver has no energy counter (before Volta, some
        # vGPUs); the meter then falls back to the power reading.
        return tuple(GpuEnergyReading(d.index, d.energy_mj, d.power_mw) for d in snapshot.devices)


@dataclass(frozen=True)
class EnergyUse:
    energy_wh: float
    usd: Decimal
    method: str  # NVML_ENERGY, GPU_POWER or CPU_ESTIMATE


@dataclass(frozen=True)
class EnergySpan:
    """What ``begin`` read; hand it back to ``end``."""

    started: float
    cpu: tuple[float, float]  # (busy seconds, total seconds) over all CPUs
    gpus: tuple[GpuEnergyReading, ...] | None  # None: no GPU could be read


NVML_RETRY_S = 60.0


def energy_cost(energy_wh: float, usd_per_kwh: Decimal) -> Decimal:
    """USD for ``energy_wh`` at ``usd_per_kwh``."""
    return (Decimal(repr(energy_wh)) / _KWH * usd_per_kwh).quantize(_USD_STEP)


def psutil_cpu_times() -> tuple[float, float]:
    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    total = sum(times)
    return total - idle, total


class EnergyMeter:
    def __init__(
        self,
        costs: Callable[[], CostSettings],
        gpu: GpuEnergySource | None = None,
        *,
        devices: frozenset[int] | None = None,
        cpu_times: Callable[[], tuple[float, float]] = psutil_cpu_times,
        clock: Callable[[], float] = time.monotonic,
        retry_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``devices``: the GPU indices the local engine runs on (None: all of them), so idle
        GPUs beside it are not charged to its requests."""
        self._costs = costs
        self._gpu = gpu
        self._devices = devices
        self._cpu_times = cpu_times
        self._clock = clock
        self._idle_mw: dict[int, int] = {}
        self._retry_clock = retry_clock
        self._gpu_retry_at: float | None = None  # set while NVML is unavailable

    def begin(self) -> EnergySpan:
        gpus = self._read_gpus()
        if gpus is not None:
            self._learn_idle(gpus)
        return EnergySpan(self._clock(), self._cpu_times(), gpus)

    def end(self, span: EnergySpan) -> EnergyUse:
        seconds = max(0.0, self._clock() - span.started)
        after = self._read_gpus() if span.gpus is not None else None
        energy_wh, method = None, CPU_ESTIMATE
        if span.gpus is not None and after is not None:
            energy_wh = _counter_wh(span.gpus, after)
            method = NVML_ENERGY
            if energy_wh is None:
                energy_wh, method = self._power_wh(after, seconds), GPU_POWER
        if energy_wh is None:
            energy_wh, method = self._cpu_wh(span.cpu, seconds), CPU_ESTIMATE
        return EnergyUse(
            energy_wh, energy_cost(energy_wh, self._costs().electricity_usd_per_kwh), method
        )

    async def abegin(self) -> EnergySpan:
        return await asyncio.to_thread(self.begin)

    async def aend(self, span: EnergySpan) -> EnergyUse:
        return await asyncio.to_thread(self.end, span)

    def _read_gpus(self) -> tuple[GpuEnergyReading, ...] | None:
        if self._gpu is None:
            return None
        if self._gpu_retry_at is not None:
            if self._retry_clock() < self._gpu_retry_at:
                return None
            self._gpu_retry_at = None
        try:
            readings = self._gpu.read()
        except NvmlUnavailable:
            # No driver, no NVIDIA GPU, or a GPU lost: asking on every request would load the
            # library each time; the CPU estimate stands in, and NVML is asked again later.
            self._gpu_retry_at = self._retry_clock() + NVML_RETRY_S
            return None
        chosen = tuple(r for r in readings if self._devices is None or r.index in self._devices)
        return chosen or None

    def _learn_idle(self, readings: tuple[GpuEnergyReading, ...]) -> None:
        for r in readings:
            if r.power_mw is not None:
                known = self._idle_mw.get(r.index)
                self._idle_mw[r.index] = r.power_mw if known is None else min(known, r.power_mw)

    def _power_wh(self, after: tuple[GpuEnergyReading, ...], seconds: float) -> float | None:
        if any(r.power_mw is None for r in after):
            return None
        extra_mw = sum(max(0, (r.power_mw or 0) - self._idle_mw.get(r.index, 0)) for r in after)
        return extra_mw / 1000 * seconds / 3600

    def _cpu_wh(self, before: tuple[float, float], seconds: float) -> float:
        busy0, total0 = before
        busy1, total1 = self._cpu_times()
        spent = total1 - total0
        share = min(1.0, max(0.0, (busy1 - busy0) / spent)) if spent > 0 else 1.0
        return self._costs().cpu_watts * seconds * share / 3600


def _counter_wh(
    before: tuple[GpuEnergyReading, ...], after: tuple[GpuEnergyReading, ...]
) -> float | None:
    """Energy from the counters, or None when a device has none or it went backwards (the
    driver reloaded and restarted it from zero)."""
    start = {r.index: r.energy_mj for r in before}
    total_mj = 0
    for r in after:
        first = start.get(r.index)
        if first is None or r.energy_mj is None or r.energy_mj < first:
            return None
        total_mj += r.energy_mj - first
    return total_mj / _MJ_PER_WH

"""Energy of a local request: NVML's energy counter, else GPU power over time, else the CPU."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from types import SimpleNamespace

import pytest

from lexitui.hardware.nvml_recorded import RecordedNvml
from lexitui.hardware.nvml_snapshot import NvmlDeviceReading, NvmlSnapshot, NvmlUnavailable
from lexitui.routing.electricity import (
    CPU_ESTIMATE,
    GPU_POWER,
    NVML_ENERGY,
    EnergyMeter,
    GpuEnergyReading,
    NvmlEnergySource,
    energy_cost,
)
from lexitui.routing.settings import CostSettings

COSTS = CostSettings(electricity_usd_per_kwh=Decimal("0.15"), cpu_watts=65.0)


class Clock:
    def __init__(self, *times: float) -> None:
        self._times = list(times)

    def __call__(self) -> float:
        return self._times.pop(0)


class Recorded:
    """A GPU energy source replaying recorded readings, one step per read."""

    def __init__(self, *steps: tuple[GpuEnergyReading, ...] | Exception) -> None:
        self._steps = list(steps)

    def read(self) -> tuple[GpuEnergyReading, ...]:
        step = self._steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def meter(gpu: object, *times: float, **kwargs: object) -> EnergyMeter:
    return EnergyMeter(
        lambda: COSTS,
        gpu,  # type: ignore[arg-type]
        clock=Clock(*times),
        cpu_times=kwargs.pop("cpu_times", lambda: (0.0, 0.0)),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def test_energy_counter_gives_watt_hours_and_dollars() -> None:
    # 7,200,000 mJ = 7,200 J = 2 Wh; 2 Wh at $0.15/kWh = $0.0003.
    source = Recorded(
        (GpuEnergyReading(0, 1_000_000, 80_000),),
        (GpuEnergyReading(0, 8_200_000, 300_000),),
    )
    m = meter(source, 100.0, 130.0)
    use = m.end(m.begin())
    assert use.method == NVML_ENERGY
    assert use.energy_wh == pytest.approx(2.0)
    assert use.usd == Decimal("0.0003")


def test_energy_counter_read_through_the_nvml_adapter_seam() -> None:
    # A reading that carries the counter (as the adapter's does when the driver reports it).
    def snap(energy_mj: int) -> SimpleNamespace:
        device = SimpleNamespace(index=0, energy_mj=energy_mj, power_mw=250_000)
        return SimpleNamespace(devices=(device,))

    class Reader:
        def __init__(self) -> None:
            self.steps = [snap(0), snap(3_600_000)]

        def read(self, *, processes: bool = True) -> SimpleNamespace:
            assert not processes  # the meter never pays for the process list
            return self.steps.pop(0)

        def close(self) -> None:
            pass

    m = meter(NvmlEnergySource(Reader()), 0.0, 10.0)  # type: ignore[arg-type]
    use = m.end(m.begin())
    assert use.method == NVML_ENERGY
    assert use.energy_wh == pytest.approx(1.0)


def gpu(power_mw: int | None, index: int = 0) -> NvmlDeviceReading:
    return NvmlDeviceReading(
        index=index,
        uuid=f"GPU-{index}",
        name="NVIDIA H100 80GB HBM3",
        memory_total=80 << 30,
        memory_free=70 << 30,
        memory_used=10 << 30,
        power_mw=power_mw,
    )


def test_power_times_time_above_idle_from_recorded_nvml() -> None:
    # Idle at 60 W before, 260 W after: 200 W more for 36 s = 2 Wh.
    recorded = RecordedNvml.of(
        NvmlSnapshot("550.54", 12040, (gpu(60_000),)),
        NvmlSnapshot("550.54", 12040, (gpu(260_000),)),
    )
    m = meter(NvmlEnergySource(recorded), 0.0, 36.0)
    use = m.end(m.begin())
    assert use.method == GPU_POWER
    assert use.energy_wh == pytest.approx(2.0)
    assert use.usd == energy_cost(use.energy_wh, COSTS.electricity_usd_per_kwh)
    assert use.usd == pytest.approx(Decimal("0.0003"))


def test_idle_baseline_is_the_lowest_power_seen() -> None:
    # The second request starts while the GPU is still warm (150 W); the baseline stays 60 W.
    source = Recorded(
        (GpuEnergyReading(0, None, 60_000),),
        (GpuEnergyReading(0, None, 160_000),),
        (GpuEnergyReading(0, None, 150_000),),
        (GpuEnergyReading(0, None, 240_000),),
    )
    m = meter(source, 0.0, 36.0, 100.0, 136.0)
    assert m.end(m.begin()).energy_wh == pytest.approx(1.0)
    assert m.end(m.begin()).energy_wh == pytest.approx(1.8)


def test_counter_that_went_backwards_falls_back_to_power() -> None:
    source = Recorded(
        (GpuEnergyReading(0, 9_000_000, 50_000),),
        (GpuEnergyReading(0, 10, 150_000),),  # the driver reloaded: the counter restarted
    )
    m = meter(source, 0.0, 36.0)
    use = m.end(m.begin())
    assert use.method == GPU_POWER
    assert use.energy_wh == pytest.approx(1.0)


def test_only_the_engines_gpus_are_charged() -> None:
    source = Recorded(
        (GpuEnergyReading(0, 0, 60_000), GpuEnergyReading(1, 0, 60_000)),
        (GpuEnergyReading(0, 3_600_000, 0), GpuEnergyReading(1, 7_200_000, 0)),
    )
    m = meter(source, 0.0, 10.0, devices=frozenset({1}))
    assert m.end(m.begin()).energy_wh == pytest.approx(2.0)


def test_cpu_fallback_when_no_gpu() -> None:
    # 65 W for an hour at half the CPU time busy: 32.5 Wh, $0.004875.
    cpu = iter([(100.0, 400.0), (150.0, 500.0)])
    m = meter(None, 0.0, 3600.0, cpu_times=lambda: next(cpu))
    use = m.end(m.begin())
    assert use.method == CPU_ESTIMATE
    assert use.energy_wh == pytest.approx(32.5)
    assert use.usd == Decimal("0.004875")


def test_cpu_fallback_when_nvml_breaks() -> None:
    cpu = iter([(0.0, 0.0), (100.0, 100.0)])
    source = Recorded(NvmlUnavailable("NVIDIA driver not loaded", 9))
    m = meter(source, 0.0, 36.0, cpu_times=lambda: next(cpu))
    use = m.end(m.begin())
    assert use.method == CPU_ESTIMATE
    assert use.energy_wh == pytest.approx(0.65)

    cpu = iter([(0.0, 0.0), (100.0, 100.0)])
    late = Recorded((GpuEnergyReading(0, 0, 1),), NvmlUnavailable("GPU is lost", 15))
    m = meter(late, 0.0, 36.0, cpu_times=lambda: next(cpu))
    assert m.end(m.begin()).method == CPU_ESTIMATE


def test_nvml_unavailable_is_not_asked_again_on_every_request() -> None:
    calls = []

    class Missing:
        def read(self) -> tuple[GpuEnergyReading, ...]:
            calls.append(1)
            raise NvmlUnavailable("NVIDIA driver not loaded", 9)

    now = [0.0]
    m = EnergyMeter(
        lambda: CostSettings(), Missing(), cpu_times=lambda: (0.0, 1.0), retry_clock=lambda: now[0]
    )
    for _ in range(5):
        m.end(m.begin())
    assert len(calls) == 1
    now[0] = 61.0
    m.begin()
    assert len(calls) == 2


async def test_async_wrappers_measure_too() -> None:
    source = Recorded((GpuEnergyReading(0, 0, 1),), (GpuEnergyReading(0, 3_600_000, 1),))
    m = meter(source, 0.0, 1.0)
    use = await m.aend(await m.abegin())
    assert use.energy_wh == pytest.approx(1.0)
    assert replace(use, energy_wh=0.0).method == NVML_ENERGY

"""The live monitor: change events exactly on changes, rolling history, sink, background loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from lexitui.domain.samples import HardwareSample, gpu_metric
from lexitui.events import HardwareChanged
from lexitui.hardware.detector import HardwareDetector
from lexitui.hardware.monitor import HardwareMonitor
from lexitui.hardware.nvml_recorded import RecordedNvml
from lexitui.hardware.nvml_snapshot import NvmlDeviceReading, NvmlSnapshot
from lexitui.hardware.settings import HardwareSettings

Make = Callable[..., HardwareDetector]
GIB = 1024**3


def _watch(detector: HardwareDetector) -> list[tuple[str, str]]:
    changes: list[tuple[str, str]] = []
    detector.hardware_changes.subscribe(lambda e: changes.append((e.change, e.subject)))
    return changes


def _gpu(index: int, free_gib: float, temp: int = 40) -> NvmlDeviceReading:
    return NvmlDeviceReading(
        index=index,
        uuid=f"GPU-{index}",
        name="NVIDIA L40S",
        memory_total=48 * GIB,
        memory_free=int(free_gib * GIB),
        memory_used=48 * GIB - int(free_gib * GIB),
        utilization_gpu=50,
        temperature_c=temp,
        power_mw=200_000,
    )


def _steps(*devices: tuple[NvmlDeviceReading, ...]) -> RecordedNvml:
    return RecordedNvml([NvmlSnapshot("550.90.07", 12040, d) for d in devices])


async def test_gpu_vanishing_between_samples(make_detector: Make, recorded: Any) -> None:
    detector = make_detector("nvml_gpu_vanishes.json")
    changes = _watch(detector)
    monitor = HardwareMonitor(detector, cpu_percent=lambda: 10.0)
    first = await monitor.sample_once()
    assert [g.id for g in first.gpus] == ["nvidia:0", "nvidia:1"] and changes == []
    await monitor.sample_once()
    assert changes == [("gpu_removed", "nvidia:1")]
    for _ in range(3):
        await monitor.sample_once()  # steady: the recording repeats its last step
    assert changes == [("gpu_removed", "nvidia:1")]
    assert not any(m.startswith("gpu:nvidia:1:") for m in monitor.metrics())
    assert len(monitor.history(gpu_metric("nvidia:0", "utilization_percent"))) == 5


async def test_baseline_comes_from_detection(make_detector: Make) -> None:
    detector = make_detector(_steps((_gpu(0, 40),), (_gpu(0, 40), _gpu(1, 40))))
    await detector.detect()  # reads step 1: one GPU
    changes = _watch(detector)
    monitor = HardwareMonitor(detector)
    await monitor.sample_once()  # step 2: a second GPU appeared since detection
    assert changes == [("gpu_added", "nvidia:1")]


async def test_vram_low_is_edge_triggered_with_hysteresis(make_detector: Make) -> None:
    # 48 GiB cards, vram_low at 10 % free (4.8 GiB), recovery at 15 % (7.2 GiB).
    frees = [20, 4, 3, 4.5, 6, 7.5, 7.5, 2]
    detector = make_detector(_steps(*[(_gpu(0, f),) for f in frees]))
    changes = _watch(detector)
    monitor = HardwareMonitor(detector)
    log: list[list[tuple[str, str]]] = []
    for _ in frees:
        before = len(changes)
        await monitor.sample_once()
        log.append(changes[before:])
    low, back = ("vram_low", "nvidia:0"), ("vram_recovered", "nvidia:0")
    assert log == [[], [low], [], [], [], [back], [], [low]]


async def test_ram_low_and_recovered(make_detector: Make, memory_box: Any) -> None:
    ram = memory_box(64, 32)
    detector = make_detector(ram=ram)
    events: list[HardwareChanged] = []
    detector.hardware_changes.subscribe(events.append)
    monitor = HardwareMonitor(detector, settings=HardwareSettings(ram_low_percent=10))
    await monitor.sample_once()
    ram.available = int(3 * GIB)
    await monitor.sample_once()
    await monitor.sample_once()
    ram.available = int(20 * GIB)
    await monitor.sample_once()
    assert [(e.change, e.subject) for e in events] == [("ram_low", "ram"), ("ram_recovered", "ram")]
    assert "3.0 GiB of RAM available" in events[0].message
    assert monitor.history("ram_used_percent")[-1] < monitor.history("ram_used_percent")[-2]


async def test_temperature_alert_once_until_cooled(make_detector: Make) -> None:
    temps = [70, 86, 90, 83, 79, 88]
    detector = make_detector(_steps(*[(_gpu(0, 40, t),) for t in temps]))
    changes = _watch(detector)
    monitor = HardwareMonitor(detector, settings=HardwareSettings(temp_alert_c=85))
    for _ in temps:
        await monitor.sample_once()
    assert changes == [
        ("temp_alert", "nvidia:0"),
        ("temp_recovered", "nvidia:0"),
        ("temp_alert", "nvidia:0"),
    ]


async def test_history_is_bounded(make_detector: Make) -> None:
    detector = make_detector("nvml_2_gpus_a100.json")
    cpu = iter(range(100))
    monitor = HardwareMonitor(
        detector, settings=HardwareSettings(history_size=3), cpu_percent=lambda: float(next(cpu))
    )
    for _ in range(7):
        await monitor.sample_once()
    assert monitor.history("cpu_percent") == (4.0, 5.0, 6.0)
    assert monitor.history(gpu_metric("nvidia:1", "temperature_c")) == (31.0, 31.0, 31.0)
    assert monitor.history("no-such-metric") == ()
    monitor.update_settings(HardwareSettings(history_size=2))
    assert monitor.history("cpu_percent") == (5.0, 6.0)


async def test_sink_receives_samples_and_its_failure_is_contained(make_detector: Make) -> None:
    got: list[HardwareSample] = []

    async def sink(sample: HardwareSample) -> None:
        got.append(sample)
        if len(got) == 1:
            raise OSError("database is locked")

    monitor = HardwareMonitor(make_detector("nvml_1_gpu_rtx4090.json"), sink=sink)
    await monitor.sample_once()
    second = await monitor.sample_once()
    assert got[1] is second and monitor.latest is second
    gpu = second.gpus[0]
    assert gpu.name == "NVIDIA GeForce RTX 4090" and gpu.power_watts == 28.5


async def test_samples_skip_process_lists(make_detector: Make) -> None:
    # Process names cost a syscall per process; the 2-second sampler never asks for them.
    detector = make_detector("nvml_8x_h100.json")
    assert all(g.processes == () for g in detector.sample_gpus())
    assert (await detector.gpus())[0].processes[0].pid == 48211


async def test_background_loop_runs_and_stops(make_detector: Make) -> None:
    detector = make_detector("nvml_gpu_vanishes.json")
    changes = _watch(detector)
    samples: list[HardwareSample] = []
    monitor = HardwareMonitor(detector, settings=HardwareSettings(sample_interval_s=0.1))
    monitor.samples.subscribe(samples.append)
    await monitor.start()
    await monitor.start()  # idempotent: still one sampler
    assert monitor.running
    await asyncio.sleep(0.35)
    await monitor.stop()
    assert not monitor.running
    count = len(samples)
    assert 3 <= count <= 5
    await asyncio.sleep(0.2)
    assert len(samples) == count  # nothing after stop
    assert changes == [("gpu_removed", "nvidia:1")]

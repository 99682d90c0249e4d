"""The inference resource monitor: real readings with the starter model loaded, and recorded
machines (RAM, NVML steps, CPU load) for history, fit checks, GPU figures and alerts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest

from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole, GpuBackend, GpuVendor
from lexitui.domain.hardware import GpuInfo, GpuProcess
from lexitui.domain.inference import LocalGenerationRequest
from lexitui.domain.resources import (
    InferenceResourceUsage,
    ResourceAlertConfig,
    ResourceRequirements,
    ResourceType,
)
from lexitui.events import Event, ResourceAlert
from lexitui.hardware.detector import HardwareDetector
from lexitui.hardware.nvml_recorded import RecordedNvml
from lexitui.hardware.nvml_snapshot import NvmlDeviceReading, NvmlReader, NvmlSnapshot
from lexitui.runtime.resources import InferenceResourceMonitor, gpu_usage
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hardware"
GIB = 1024**3
SMALL = ModelLoadOptions(context_length=1024, threads=1)
HI = LocalGenerationRequest(
    messages=(LocalChatMessage(ChatRole.USER, "Say hi"),), max_tokens=16, temperature=0, seed=1
)


class Ram:
    """A RAM reading a test changes between samples."""

    def __init__(self, total_gib: float, used_gib: float) -> None:
        self.total_gib, self.used_gib = total_gib, used_gib

    def __call__(self) -> tuple[int, int]:
        return int(self.total_gib * GIB), int((self.total_gib - self.used_gib) * GIB)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def recorded_detector(tmp_path: Path, nvml: NvmlReader, ram: Ram) -> HardwareDetector:
    def no_commands(argv: list[str]) -> str:
        raise OSError("no commands in tests")

    return HardwareDetector(
        nvml=nvml,
        root=tmp_path / "root",
        model_storage_path=tmp_path / "models",
        system="linux",
        machine="x86_64",
        environ={},
        memory=ram,
        runner=no_commands,
        disk_free=lambda _path: 500 * GIB,
    )


def rtx(used_gib: float, temperature: int, total_gib: float = 24) -> NvmlSnapshot:
    total, used = int(total_gib * GIB), int(used_gib * GIB)
    device = NvmlDeviceReading(
        index=0,
        uuid="GPU-d440e504-54f3-1af3-1768-13e02ea68ef7",
        name="NVIDIA GeForce RTX 4090",
        memory_total=total,
        memory_free=total - used,
        memory_used=used,
        utilization_gpu=50,
        temperature_c=temperature,
        power_mw=300_000,
    )
    return NvmlSnapshot("560.35.03", 12060, (device,))


def monitor_on(
    services: Services,
    detector: HardwareDetector,
    *,
    cpu: Callable[[], float] = lambda: 10.0,
    alerts: ResourceAlertConfig | None = None,
    retention: timedelta = timedelta(minutes=30),
    max_samples: int = 3600,
    interval_s: float = 1.0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> InferenceResourceMonitor:
    return InferenceResourceMonitor(
        services.runtime,
        services.bus,
        detector,
        interval_s=interval_s,
        retention=retention,
        alerts=alerts,
        max_samples=max_samples,
        cpu_percent=cpu,
        clock=clock,
    )


@pytest.mark.engine
async def test_current_counts_the_loaded_model_its_memory_and_speed(services: Services) -> None:
    monitor = services.resources
    idle = await monitor.current()
    assert (idle.active_models, idle.models_ram_bytes, idle.current_tokens_per_second) == (0, 0, 0)

    await services.runtime.load(STARTER_ID, SMALL)
    result = await services.runtime.generate(HI)
    usage = await monitor.current()

    assert usage.active_models == 1 and usage.active_requests == 0
    assert usage.models_ram_bytes > 50_000_000  # the engine process holds the 98 MB model
    assert 0 < usage.system_ram_used_bytes < usage.system_ram_bytes
    assert usage.process_ram_bytes > 0
    assert usage.current_tokens_per_second == pytest.approx(result.metrics.tokens_per_second)
    # GPUs come from the hardware layer as they are: none on a machine without one.
    assert [g.gpu_id for g in usage.gpu_usage] == [g.id for g in await services.hardware.gpus()]

    check = await monitor.check_resources(ResourceRequirements(ram_bytes=2**50))
    assert check.suggestion is not None and STARTER_ID in check.suggestion


async def test_asking_for_more_ram_than_the_machine_has_is_insufficient(
    services: Services,
) -> None:
    too_much = psutil.virtual_memory().total * 2
    check = await services.resources.check_resources(ResourceRequirements(ram_bytes=too_much))
    assert not check.is_sufficient
    [issue] = check.issues
    assert issue.resource is ResourceType.RAM
    assert issue.required == too_much and 0 < issue.available < too_much
    assert check.suggestion == "Pick a smaller quantization or a shorter context."

    fine = await services.resources.check_resources(ResourceRequirements(ram_bytes=1024))
    assert fine.is_sufficient and fine.issues == () and fine.suggestion is None


async def test_vram_is_checked_against_the_roomiest_gpu(services: Services, tmp_path: Path) -> None:
    nvml = RecordedNvml.from_file(FIXTURES / "nvml_1_gpu_rtx4090.json")
    monitor = monitor_on(services, recorded_detector(tmp_path, nvml, Ram(64, 8)))
    fits = await monitor.check_resources(ResourceRequirements(8 * GIB, vram_bytes=20 * GIB))
    assert fits.is_sufficient

    needs = ResourceRequirements(8 * GIB, vram_bytes=30 * GIB, gpu_layers=33)
    check = await monitor.check_resources(needs)
    [issue] = check.issues
    assert issue.resource is ResourceType.VRAM
    assert (issue.required, issue.available) == (30 * GIB, 24_488_443_904)
    assert check.suggestion == "Use fewer than 33 GPU layers."

    no_gpu = RecordedNvml.from_file(FIXTURES / "nvml_0_gpus.json")
    cpu_only = monitor_on(services, recorded_detector(tmp_path, no_gpu, Ram(64, 8)))
    check = await cpu_only.check_resources(ResourceRequirements(GIB, vram_bytes=GIB))
    assert [i.resource for i in check.issues] == [ResourceType.VRAM]
    assert check.issues[0].available == 0


async def test_recorded_gpu_readings_appear_in_gpu_usage(
    services: Services, tmp_path: Path
) -> None:
    nvml = RecordedNvml.from_file(FIXTURES / "nvml_1_gpu_rtx4090.json")
    monitor = monitor_on(services, recorded_detector(tmp_path, nvml, Ram(64, 8)))
    usage = await monitor.current()
    [gpu] = usage.gpu_usage
    assert (gpu.gpu_id, gpu.gpu_name) == ("nvidia:0", "NVIDIA GeForce RTX 4090")
    assert gpu.vram_total_bytes == 25_757_220_864
    assert gpu.vram_used_bytes == 25_757_220_864 - 24_488_443_904
    assert gpu.gpu_utilization_percent == 3.0
    assert (gpu.temperature_celsius, gpu.power_watts) == (41.0, 28.5)
    assert gpu.vram_models_bytes == 0  # Xorg holds it, not an engine

    no_gpu = RecordedNvml.from_file(FIXTURES / "nvml_0_gpus.json")
    cpu_only = monitor_on(services, recorded_detector(tmp_path, no_gpu, Ram(64, 8)))
    assert (await cpu_only.current()).gpu_usage == ()


def test_engine_processes_vram_counts_only_their_pids() -> None:
    procs = (GpuProcess(4242, "python", 3 * GIB), GpuProcess(7, "Xorg", GIB), GpuProcess(9, "x"))
    gpu = GpuInfo("nvidia:0", "RTX", GpuVendor.NVIDIA, 24 * GIB, GpuBackend.CUDA, processes=procs)
    assert gpu_usage(gpu, {4242, 9}).vram_models_bytes == 3 * GIB


async def test_history_keeps_only_the_retention_window(services: Services, tmp_path: Path) -> None:
    clock = Clock()
    nvml = RecordedNvml.from_file(FIXTURES / "nvml_0_gpus.json")
    detector = recorded_detector(tmp_path, nvml, Ram(64, 8))
    monitor = monitor_on(services, detector, retention=timedelta(minutes=1), clock=clock)
    for _ in range(10):
        await monitor.sample_once()
        clock.now += timedelta(seconds=20)
    clock.now -= timedelta(seconds=20)  # back to the newest sample's time
    kept = monitor.history(timedelta(hours=1))
    assert [u.timestamp for u in kept] == [
        clock.now - timedelta(seconds=s) for s in (60, 40, 20, 0)
    ]
    assert len(monitor.history(timedelta(seconds=30))) == 2

    capped = monitor_on(services, detector, max_samples=3, clock=clock)
    for _ in range(5):
        await capped.sample_once()
    assert len(capped.history(timedelta(hours=1))) == 3


async def test_alerts_fire_once_per_crossing_and_again_after_recovery(
    services: Services, tmp_path: Path
) -> None:
    # (RAM used of 100 GiB, VRAM used of 24 GiB, GPU °C, CPU %) per sample
    steps = [(50, 12, 70, 10.0), (95, 23, 90, 95.0), (97, 23.5, 91, 99.0), (80, 12, 60, 10.0)]
    steps += [(92, 23, 88, 91.0)]
    ram = Ram(100, 0)
    cpu = [0.0]
    nvml = RecordedNvml.of(*(rtx(vram, temp) for _ram, vram, temp, _cpu in steps))
    config = ResourceAlertConfig(
        ram_percent=90, vram_percent=95, cpu_percent=90, gpu_temperature_celsius=85
    )
    monitor = monitor_on(
        services, recorded_detector(tmp_path, nvml, ram), cpu=lambda: cpu[0], alerts=config
    )
    alerts: list[ResourceAlert] = []

    def keep(event: Event) -> None:
        if isinstance(event, ResourceAlert):
            alerts.append(event)

    services.bus.inference.subscribe(keep)
    raised: list[list[str]] = []
    for used, _vram, _temp, load in steps:
        ram.used_gib, cpu[0] = used, load
        before = len(alerts)
        await monitor.sample_once()
        raised.append(sorted(a.resource for a in alerts[before:]))

    every = sorted(["ram", "vram", "cpu", "gpu_temperature"])
    assert raised == [[], every, [], [], every]
    ram_alert = next(a for a in alerts if a.resource == "ram")
    assert ram_alert.usage_percent == pytest.approx(95.0)
    assert "RAM 95% used" in ram_alert.message
    hot = "NVIDIA GeForce RTX 4090 (nvidia:0) at 90 °C (alert at 85 °C)"
    assert hot in {a.message for a in alerts}

    # An alert switched off stays quiet; the others keep their state.
    monitor.set_alerts(ResourceAlertConfig(ram_percent=None, vram_percent=None))
    ram.used_gib = 99
    before = len(alerts)
    await monitor.sample_once()
    assert alerts[before:] == []


async def test_sampler_emits_updates_until_stopped(services: Services, tmp_path: Path) -> None:
    nvml = RecordedNvml.from_file(FIXTURES / "nvml_0_gpus.json")
    monitor = monitor_on(services, recorded_detector(tmp_path, nvml, Ram(64, 8)), interval_s=0.02)
    seen: list[InferenceResourceUsage] = []
    monitor.updates.subscribe(seen.append)
    monitor.start()
    for _ in range(200):
        if len(seen) >= 3:
            break
        await asyncio.sleep(0.02)
    await monitor.stop()
    assert len(seen) >= 3 and not monitor.running
    assert all(0 <= u.process_cpu_percent <= 100 for u in seen)
    assert seen[0].system_ram_bytes == 64 * GIB and seen[0].system_ram_used_bytes == 8 * GIB
    count = len(seen)
    await asyncio.sleep(0.1)
    assert len(seen) == count
    assert len(monitor.history(timedelta(minutes=5))) == count

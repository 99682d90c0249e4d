"""``HardwareDetector``: the roadmap's IHardwareDetector.

Probes (procfs/sysfs walks, NVML, sysctl) block, so each runs in a worker thread and they run
side by side. None of them raises: a probe that fails leaves a sentence in ``probe_notes`` and a
safe default, because a broken NVIDIA driver must not stop someone using their CPU.
Everything the OS would give is injectable (root folder, NVML reader, environment, RAM and disk
readings) so tests describe a machine instead of needing one.
"""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import cast

import psutil
from reactivex import Observable
from reactivex import operators as ops

from lexitui.config import Paths
from lexitui.domain.enums import InferenceBackendType
from lexitui.domain.hardware import BackendSupport, CpuInfo, GpuInfo, HardwareCapabilities
from lexitui.domain.units import GIB
from lexitui.engine.devices import available_engines
from lexitui.events import EventBus, HardwareChanged, HardwareDetected
from lexitui.hardware.amd import scan_drm
from lexitui.hardware.apple import apple_gpu, is_apple_silicon
from lexitui.hardware.backend_support import backend_support
from lexitui.hardware.cpu import CommandRunner, probe_cpu, run_command
from lexitui.hardware.nvidia import VISIBLE_ENV, gpu_infos
from lexitui.hardware.nvml_snapshot import NvmlReader, NvmlUnavailable
from lexitui.hardware.recommend import recommend
from lexitui.hardware.settings import HardwareSettings

MemoryReader = Callable[[], tuple[int, int]]  # (total, available) bytes
DiskFreeReader = Callable[[Path], int]  # free bytes of the filesystem holding a folder
_ARCH = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}


def read_memory() -> tuple[int, int]:
    vm = psutil.virtual_memory()
    return int(vm.total), int(vm.available)


def free_disk_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


def nearest_existing(path: Path) -> Path:
    """The model folder may not exist yet; its free space is that of the nearest parent."""
    path = path.expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


class HardwareDetector:
    """The roadmap's IHardwareDetector. The app builds one (with its ``EventBus`` and the loaded
    ``HardwareSettings``), awaits ``detect()`` at start, and hands it to ``HardwareMonitor``.
    ``settings`` may be replaced at any time; the next detection and sample use the new one.
    """

    def __init__(
        self,
        *,
        bus: EventBus | None = None,
        settings: HardwareSettings | None = None,
        nvml: NvmlReader | None = None,
        root: Path = Path("/"),
        model_storage_path: Path | None = None,
        system: str | None = None,
        machine: str | None = None,
        environ: Mapping[str, str] | None = None,
        memory: MemoryReader = read_memory,
        runner: CommandRunner = run_command,
        disk_free: DiskFreeReader = free_disk_bytes,
    ) -> None:
        self.bus = bus or EventBus()
        self.settings = settings or HardwareSettings()
        self.system = (system or platform.system()).lower()
        self.machine = machine or platform.machine()
        self.environ = os.environ if environ is None else environ
        self.root = root
        self.model_storage_path = (
            model_storage_path or Paths.from_env(dict(self.environ)).models_dir
        )
        self._memory = memory
        self._runner = runner
        self._disk_free = disk_free
        self._nvml = nvml if nvml is not None else self._default_nvml()
        self._apple_chip: str | None = None
        self.last: HardwareCapabilities | None = None

    def _default_nvml(self) -> NvmlReader | None:
        if self.system == "darwin":
            return None  # no NVIDIA driver has shipped for macOS since 10.13
        from lexitui.hardware.nvml_adapter import PynvmlReader

        return PynvmlReader()

    @property
    def nvml(self) -> NvmlReader | None:
        """The NVML reader detection uses, shared with whoever meters GPU energy."""
        return self._nvml

    @property
    def architecture(self) -> str:
        return _ARCH.get(self.machine.lower(), self.machine.lower())

    @property
    def hardware_changes(self) -> Observable[HardwareChanged]:
        """Changes the ``HardwareMonitor`` sees (GPU added/removed, memory low, temperature)."""
        return self.bus.hardware.pipe(
            ops.filter(lambda e: isinstance(e, HardwareChanged)),
            ops.map(lambda e: cast(HardwareChanged, e)),
        )

    # --- blocking probes (run in worker threads) -------------------------------------------

    def probe_gpus(self, notes: list[str], *, processes: bool = True) -> list[GpuInfo]:
        """Every GPU this process's children could use, before the allowed-GPU setting."""
        found: list[GpuInfo] = []
        nvml_reason: str | None = None
        if self._nvml is not None:
            try:
                snapshot = self._nvml.read(processes=processes)
                found += gpu_infos(snapshot, self.environ.get(VISIBLE_ENV), notes)
            except NvmlUnavailable as exc:
                nvml_reason = exc.reason
                notes.append(f"nvidia: {exc.reason}")
        if self.system == "linux":
            scan = scan_drm(self.root)
            found += scan.gpus
            if nvml_reason and scan.nvidia_cards:
                notes.append(
                    f"nvidia: {scan.nvidia_cards} NVIDIA card(s) on the PCI bus cannot be "
                    f"used: {nvml_reason}"
                )
        if is_apple_silicon(self.system, self.machine):
            total, available = self._memory()
            found.append(apple_gpu(self._chip_name(), total, available))
        return found

    def _chip_name(self) -> str | None:
        if self._apple_chip is None:
            try:
                self._apple_chip = self._runner(
                    ["sysctl", "-n", "machdep.cpu.brand_string"]
                ).strip()
            except Exception:  # any failure only costs the chip's name
                self._apple_chip = ""
        return self._apple_chip or None

    def _allowed(self, gpus: list[GpuInfo], notes: list[str] | None = None) -> list[GpuInfo]:
        kept = [g for g in gpus if self.settings.allows(g.id, g.uuid)]
        if notes is not None and len(kept) < len(gpus):
            notes.append(
                f"settings: {len(gpus) - len(kept)} GPU(s) left out by hardware.allowed_gpus"
            )
        return kept

    def memory(self) -> tuple[int, int]:
        """(total, available) RAM bytes, from the injected reader."""
        return self._memory()

    def sample_gpus(self) -> list[GpuInfo]:
        """The cheap path for the monitor: no process list, allowed GPUs only."""
        return self._allowed(self.probe_gpus([], processes=False))

    def _probe_cpu(self, notes: list[str]) -> CpuInfo:
        try:
            return probe_cpu(self.system, self.root, notes, self._runner)
        except Exception as exc:  # a probe bug must not cost the whole detection
            notes.append(f"cpu: probe failed ({exc!r})")
            count = os.cpu_count() or 1
            return CpuInfo("unknown CPU", count, count)

    def _probe_memory(self, notes: list[str]) -> tuple[int, int]:
        try:
            return self._memory()
        except Exception as exc:
            notes.append(f"memory: cannot read RAM size ({exc!r})")
            return 0, 0

    def _probe_disk(self, notes: list[str]) -> int:
        try:
            return self._disk_free(nearest_existing(self.model_storage_path))
        except OSError as exc:
            notes.append(f"disk: cannot read free space for the model folder ({exc.strerror})")
            return 0

    def _probe_gpus_soft(self, notes: list[str]) -> list[GpuInfo]:
        try:
            return self.probe_gpus(notes)
        except Exception as exc:
            notes.append(f"gpu: probe failed ({exc!r})")
            return []

    # --- the async API ---------------------------------------------------------------------

    async def gpus(self, *, apply_settings: bool = True) -> list[GpuInfo]:
        found = await asyncio.to_thread(self._probe_gpus_soft, [])
        return self._allowed(found) if apply_settings else found

    async def detect(self) -> HardwareCapabilities:
        cpu_notes: list[str] = []
        gpu_notes: list[str] = []
        mem_notes: list[str] = []
        disk_notes: list[str] = []
        # The engines are probed alongside (once per process): the plans made from this
        # detection ask which GPUs they can drive, and must not wait for the answer.
        cpu, gpus, (total, available), disk, _ = await asyncio.gather(
            asyncio.to_thread(self._probe_cpu, cpu_notes),
            asyncio.to_thread(self._probe_gpus_soft, gpu_notes),
            asyncio.to_thread(self._probe_memory, mem_notes),
            asyncio.to_thread(self._probe_disk, disk_notes),
            asyncio.to_thread(available_engines),
        )
        notes = cpu_notes + gpu_notes + mem_notes + disk_notes
        gpus = self._allowed(gpus, notes)
        caps = HardwareCapabilities(
            operating_system=self.system,
            architecture=self.architecture,
            cpu=cpu,
            total_ram_bytes=total,
            available_ram_bytes=available,
            gpus=tuple(gpus),
            available_disk_bytes=disk,
            model_storage_path=str(self.model_storage_path),
            recommendation=recommend(cpu, total, gpus, self.settings),
            probe_notes=tuple(notes),
        )
        self.last = caps
        self.bus.publish(HardwareDetected(summary=summarize(caps), gpu_count=len(caps.gpus)))
        return caps

    async def check_backend_support(self, backend: InferenceBackendType) -> BackendSupport:
        caps = self.last or await self.detect()
        return backend_support(backend, caps)

    def close(self) -> None:
        if self._nvml is not None:
            self._nvml.close()


def summarize(caps: HardwareCapabilities) -> str:
    """One line for logs and the event history."""
    gpus: dict[str, int] = {}
    for g in caps.gpus:
        gpus[g.name] = gpus.get(g.name, 0) + 1
    gpu_text = ", ".join(f"{n}x {name}" for name, n in gpus.items()) or "no GPU"
    rec = caps.recommendation
    return (
        f"{caps.cpu.name} ({caps.cpu.physical_cores} cores), "
        f"{caps.total_ram_bytes / GIB:.0f} GiB RAM, {gpu_text}; recommended "
        f"{rec.max_recommended_size.value} at {rec.recommended_quantization.value} "
        f"({rec.recommended_mode.value})"
    )

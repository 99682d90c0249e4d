"""A LexituiApp over a described machine: recorded NVML, a cpuinfo file, fixed RAM/disk/CPU load.

Everything the Hardware screen shows comes from these fixtures, so its snapshots are the same
on every machine (no real GPU, RAM, disk or CPU load leaks in). The model folder is a fixed,
made-up path that is never created: only its free space is read, through ``disk_free``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from lexitui.config import Paths
from lexitui.hardware.detector import HardwareDetector
from lexitui.hardware.monitor import HardwareMonitor
from lexitui.hardware.nvml_recorded import RecordedNvml
from lexitui.hardware.nvml_snapshot import NvmlReader
from lexitui.hardware.settings import HardwareSettings
from lexitui.services import Services
from lexitui.ui.app import LexituiApp

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hardware"
GIB = 1024**3
MODELS_DIR = Path("/srv/lexitui/models")
# One sample only during a test: the next would come an hour later.
QUIET = HardwareSettings(sample_interval_s=3600)


@dataclass
class Machine:
    """Readings a test may change between detections."""

    ram_total_gib: float = 256
    ram_available_gib: float = 200
    disk_free_gib: float = 812
    cpu_percent: float = 12.5
    disk_asked: list[Path] = field(default_factory=list)

    def memory(self) -> tuple[int, int]:
        return int(self.ram_total_gib * GIB), int(self.ram_available_gib * GIB)

    def disk_free(self, path: Path) -> int:
        self.disk_asked.append(path)
        return int(self.disk_free_gib * GIB)


def no_commands(argv: list[str]) -> str:
    raise OSError(f"no commands in tests: {argv[0]}")


def fake_root(root: Path, cpuinfo: str) -> Path:
    (root / "proc").mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / cpuinfo, root / "proc" / "cpuinfo")
    cache = root / "sys/devices/system/cpu/cpu0/cache/index3"
    cache.mkdir(parents=True, exist_ok=True)
    for name, text in {
        "level": "3",
        "type": "Unified",
        "size": "107520K",
        "shared_cpu_list": "0-3",
    }.items():
        (cache / name).write_text(text + "\n")
    return root


def build_services(
    paths: Paths,
    root: Path,
    nvml: str | NvmlReader,
    *,
    machine: Machine | None = None,
    settings: HardwareSettings = QUIET,
    cpuinfo: str = "cpuinfo_intel_xeon_avx512.txt",
) -> Services:
    machine = machine or Machine()
    reader = RecordedNvml.from_file(FIXTURES / nvml) if isinstance(nvml, str) else nvml
    detector = HardwareDetector(
        settings=settings,
        nvml=reader,
        root=fake_root(root, cpuinfo),
        model_storage_path=MODELS_DIR,
        system="linux",
        machine="x86_64",
        environ={},
        memory=machine.memory,
        runner=no_commands,
        disk_free=machine.disk_free,
    )
    services = Services.build(paths, hardware=detector)
    # The real monitor reads psutil's CPU load; a fixed figure keeps pictures reproducible.
    services.monitor = HardwareMonitor(
        detector,
        bus=services.bus,
        sink=services.hardware_history.record,
        cpu_percent=lambda: machine.cpu_percent,
    )
    return services


def hardware_app(
    paths: Paths,
    root: Path,
    nvml: str | NvmlReader,
    *,
    machine: Machine | None = None,
    settings: HardwareSettings = QUIET,
) -> LexituiApp:
    return LexituiApp(build_services(paths, root, nvml, machine=machine, settings=settings))

"""Builders for fake machines: a root folder with /proc and /sys files, recorded NVML, fixed RAM."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lexitui.events import EventBus
from lexitui.hardware.detector import HardwareDetector
from lexitui.hardware.nvml_recorded import RecordedNvml
from lexitui.hardware.nvml_snapshot import NvmlReader
from lexitui.hardware.settings import HardwareSettings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "hardware"
GIB = 1024**3


def recorded(name: str) -> RecordedNvml:
    return RecordedNvml.from_file(FIXTURES / name)


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def drm_card(card: str, vendor: str, **attrs: str) -> dict[str, str]:
    """Files of one /sys/class/drm/cardN; keys like "hwmon/hwmon3/temp1_input" go under device/."""
    base = f"sys/class/drm/{card}/device"
    files = {f"{base}/vendor": vendor + "\n"}
    files.update({f"{base}/{k}": v + "\n" for k, v in attrs.items()})
    return files


class MemoryBox:
    """A RAM reading tests can change between samples."""

    def __init__(self, total_gib: float, available_gib: float) -> None:
        self.total = int(total_gib * GIB)
        self.available = int(available_gib * GIB)

    def __call__(self) -> tuple[int, int]:
        return self.total, self.available


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def make_detector(tmp_path: Path) -> Callable[..., HardwareDetector]:
    def build(
        nvml: NvmlReader | str | None = "nvml_0_gpus.json",
        *,
        cpuinfo: str | None = "cpuinfo_intel_xeon_avx512.txt",
        ram: MemoryBox | None = None,
        environ: dict[str, str] | None = None,
        system: str = "linux",
        machine: str = "x86_64",
        files: dict[str, str] | None = None,
        settings: HardwareSettings | None = None,
        bus: EventBus | None = None,
        **kwargs: Any,
    ) -> HardwareDetector:
        root = tmp_path / "root"
        root.mkdir(exist_ok=True)
        if cpuinfo is not None:
            (root / "proc").mkdir(exist_ok=True)
            shutil.copy(FIXTURES / cpuinfo, root / "proc" / "cpuinfo")
        write_files(root, files or {})
        reader = recorded(nvml) if isinstance(nvml, str) else nvml
        return HardwareDetector(
            bus=bus,
            settings=settings,
            nvml=reader,
            root=root,
            model_storage_path=tmp_path / "home" / "data" / "models",
            system=system,
            machine=machine,
            environ=environ if environ is not None else {},
            memory=ram or MemoryBox(256, 200),
            **kwargs,
        )

    return build


# Helpers as fixtures, so test modules need no import path to this folder (works under any
# pytest import mode and whether or not tests/ becomes a package).
@pytest.fixture(name="recorded")
def _recorded() -> Callable[[str], RecordedNvml]:
    return recorded


@pytest.fixture(name="memory_box")
def _memory_box() -> type[MemoryBox]:
    return MemoryBox


@pytest.fixture(name="drm_card")
def _drm_card() -> Callable[..., dict[str, str]]:
    return drm_card


@pytest.fixture(name="write_tree")
def _write_tree() -> Callable[[Path, dict[str, str]], None]:
    return write_files

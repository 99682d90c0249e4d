"""The free-disk reading is injectable, so screens and reports built on it are reproducible."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from lexitui.hardware.detector import HardwareDetector, free_disk_bytes

Make = Callable[..., HardwareDetector]
GIB = 1024**3


async def test_injected_reader_gets_the_nearest_existing_folder(
    make_detector: Make, tmp_path: Path
) -> None:
    asked: list[Path] = []

    def disk_free(path: Path) -> int:
        asked.append(path)
        return 812 * GIB

    caps = await make_detector(disk_free=disk_free).detect()
    assert caps.available_disk_bytes == 812 * GIB
    # The models folder does not exist yet, so the reader is asked about its nearest parent.
    assert asked == [tmp_path]


async def test_a_failing_reader_leaves_a_note_and_zero(make_detector: Make) -> None:
    def broken(_path: Path) -> int:
        raise PermissionError(13, "Permission denied")

    caps = await make_detector(disk_free=broken).detect()
    assert caps.available_disk_bytes == 0
    assert "disk: cannot read free space for the model folder (Permission denied)" in (
        caps.probe_notes
    )


def test_default_reader_is_the_filesystem(tmp_path: Path) -> None:
    free = free_disk_bytes(tmp_path)
    assert 0 < free <= shutil.disk_usage(tmp_path).total

"""The free-space check made before any byte is fetched (D11): the bytes still to come plus a
20% margin, as the roadmap's pre-download checks say; a full disk half-way costs more than a
clear refusal up front."""

from __future__ import annotations

import shutil
from pathlib import Path

from lexitui.domain.units import format_bytes
from lexitui.downloads.errors import InsufficientSpaceError

MARGIN = 0.2


def disk_free(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def check_space(folder: Path, needed: int, margin: float = MARGIN) -> None:
    want = int(needed * (1 + margin))
    free = disk_free(folder)
    if free < want:
        raise InsufficientSpaceError(
            f"not enough free space in {folder}: the download needs {format_bytes(want)} "
            f"({format_bytes(needed)} + {margin:.0%}), {format_bytes(free)} is free"
        )


# The one way sizes are written (binary units), under the name its many callers use.

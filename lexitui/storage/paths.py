"""Path containment checks for scanning other tools' folders (checklist P3).

A library folder is somebody else's: a symlink in it may point anywhere (``/etc``, a device, a
network mount). Scanners only accept a link whose real target stays inside the folder they were
asked to scan, so a planted link can never make lexitui read, hash or list a file elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path


def is_within(path: Path, root: Path) -> bool:
    """True when ``path`` is ``root`` or below it (both already real, absolute paths)."""
    try:
        return os.path.commonpath([path, root]) == os.fspath(root)
    except ValueError:  # different drives on Windows
        return False


def real_inside(path: Path, root: Path) -> Path | None:
    """The real path of ``path`` when it (after every symlink) is inside ``root``, else None.

    ``root`` must be a real path (``os.path.realpath`` of the scanned folder).
    """
    try:
        real = Path(os.path.realpath(path, strict=True))
    except (OSError, RuntimeError):  # dangling link, loop, permission
        return None
    return real if is_within(real, root) else None


def contract_home(path: str) -> str:
    """``/home/me/x`` -> ``~/x``: shorter on screen, and the same picture on every machine."""
    home = os.path.expanduser("~")
    if home not in ("", "/") and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home) :]
    return path

"""Which copy of the model store is live: a small marker file in the data folder.

Moving the store copies it, then switches this file, then deletes the old copy. The switch is
one atomic rename, so whatever moment a move is interrupted at, the file names exactly one
complete store: the old one until the copy is finished, the new one after. While ``previous``
is set, the old copy still has to be removed (and rows re-pointed): ``StorageManager.start``
finishes that job.

::

    {data_dir}/storage.json   {"live": "/mnt/big/lexitui-models", "previous": null}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lexitui.files.atomic import write_atomic

LOCATION_FILE = "storage.json"
DEFAULT_FOLDER = "models"
# In a store's root: "this folder is a complete lexitui store"; and "a copy in progress".
STORE_MARKER = ".lexitui-store"
INCOMPLETE_MARKER = ".lexitui-incomplete"
MAX_LOCATION_BYTES = 64 * 1024


@dataclass(frozen=True)
class Location:
    live: Path
    previous: Path | None = None


def default_models_dir(data_dir: Path) -> Path:
    return data_dir / DEFAULT_FOLDER


def read_location(data_dir: Path) -> Location:
    """The live store; the default folder when no move ever happened or the file is unusable."""
    try:
        raw = (data_dir / LOCATION_FILE).read_bytes()[:MAX_LOCATION_BYTES]
        doc = json.loads(raw)
    except (OSError, ValueError):
        return Location(default_models_dir(data_dir))
    live = _absolute(doc.get("live")) if isinstance(doc, dict) else None
    if live is None:
        return Location(default_models_dir(data_dir))
    previous = _absolute(doc.get("previous"))
    return Location(live, previous if previous != live else None)


def live_models_dir(data_dir: Path) -> Path:
    """What ``Paths.models_dir`` should return so every service follows a moved store."""
    return read_location(data_dir).live


def write_location(data_dir: Path, location: Location) -> None:
    doc = {
        "live": str(location.live),
        "previous": str(location.previous) if location.previous else None,
    }
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(data_dir / LOCATION_FILE, (json.dumps(doc, indent=2) + "\n").encode())


def _absolute(value: object) -> Path | None:
    if not isinstance(value, str) or not value or "\x00" in value:
        return None
    path = Path(value)
    return path if path.is_absolute() else None

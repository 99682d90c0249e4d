"""Moving the whole model store to another folder: copy, switch, delete.

1. Copy every file into the new folder, which carries an "incomplete" marker until the switch
   has happened (a finished copy that never became live is still a leftover to replace). On
   the same file system the "copy" is a hard link per file (instant, no extra space); files
   that were hard links of each other (a blob and its install link) stay linked; symlinks into
   the old store are re-aimed at the new one.
2. Switch: one atomic rename of the location file (``files/model_location.py``) makes the new
   copy live and records the old one as ``previous``.
3. Finish: re-point rows, delete the old copy, drop the new copy's "incomplete" marker, clear
   ``previous``. A crash here is finished by the next start.

Interrupted before 2 (an error, a cancel, a kill, even just before the switch), the old store
is still the live one and untouched; the copy is removed (or, after a kill, replaced by the
next move there: it still carries its "incomplete" marker).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import threading
from collections.abc import Callable
from pathlib import Path

from lexitui.domain.storage import MovePhase, StorageMoveProgress
from lexitui.files.copying import copy_file
from lexitui.files.model_location import INCOMPLETE_MARKER, STORE_MARKER
from lexitui.gguf.text import safe_text
from lexitui.storage.disk import read_disk_usage
from lexitui.storage.errors import StorageError
from lexitui.storage.paths import is_within

MoveProgress = Callable[[StorageMoveProgress], None]
SKIPPED_FOLDERS = ("temp",)  # scratch space: recreated empty, never copied
SPACE_MARGIN = 1.02


def check_target(old: Path, new: Path) -> Path:
    """The absolute target folder, made ready; raises StorageError when it will not do."""
    new = Path(os.path.abspath(new.expanduser()))
    shown = safe_text(str(new))
    real_old = Path(os.path.realpath(old))
    real_new = Path(os.path.realpath(new))
    if real_new == real_old:
        raise StorageError(f"the model store is already at {shown}")
    if is_within(real_new, real_old):
        raise StorageError(f"{shown} is inside the current model store")
    if is_within(real_old, real_new):
        raise StorageError(f"{shown} contains the current model store")
    if os.path.lexists(new):
        if not stat.S_ISDIR(os.lstat(new).st_mode):
            raise StorageError(f"{shown} exists and is not a folder")
        names = set(os.listdir(new))
        if INCOMPLETE_MARKER in names:
            # Our own copy from a move killed before its switch (half or wholly copied): the
            # live store is the old one, so this copy is replaced by a fresh one.
            shutil.rmtree(new)
        elif STORE_MARKER in names:
            raise StorageError(f"{shown} already holds a lexitui model store")
        elif names:
            raise StorageError(f"{shown} is not empty; choose an empty or new folder")
    return new


def files_to_copy(old: Path) -> tuple[int, int]:
    """(files, bytes) to copy, hard links counted once."""
    seen: set[tuple[int, int]] = set()
    count = total = 0
    for _path, info in _walk(old):
        if stat.S_ISREG(info.st_mode) and (info.st_dev, info.st_ino) not in seen:
            seen.add((info.st_dev, info.st_ino))
            count += 1
            total += info.st_size
    return count, total


def copy_store(
    old: Path,
    new: Path,
    *,
    progress: MoveProgress | None = None,
    cancel: threading.Event | None = None,
) -> None:
    """Step 1 (blocking). On any failure the partial copy is removed and the error raised."""
    _, total = files_to_copy(old)
    same_disk = _same_device(old, new)
    if not same_disk and read_disk_usage(new).free < total * SPACE_MARGIN:
        raise StorageError(f"{safe_text(str(new))} has too little free space for the store")
    new.mkdir(parents=True, exist_ok=True, mode=0o700)
    (new / INCOMPLETE_MARKER).write_text(str(old) + "\n")
    copied: dict[tuple[int, int], Path] = {}
    done = 0

    def report(current: str, extra: int = 0) -> None:
        if progress is not None:
            progress(StorageMoveProgress(MovePhase.COPYING, done + extra, total, current))

    try:
        for folder in SKIPPED_FOLDERS:
            (new / folder).mkdir(mode=0o700, exist_ok=True)
        for path, info in _walk(old):
            if cancel is not None and cancel.is_set():
                raise StorageError("the move was interrupted; the old store is still in use")
            relative = path.relative_to(old)
            target = new / relative
            if stat.S_ISDIR(info.st_mode):
                target.mkdir(mode=stat.S_IMODE(info.st_mode) or 0o700, exist_ok=True)
            elif stat.S_ISLNK(info.st_mode):
                os.symlink(_reaimed(os.readlink(path), old, new), target)
            elif stat.S_ISREG(info.st_mode):
                key = (info.st_dev, info.st_ino)
                if key in copied:
                    os.link(copied[key], target)
                    continue
                if same_disk:
                    os.link(path, target, follow_symlinks=False)
                else:

                    def step(n: int, rel: str = str(relative)) -> None:
                        report(rel, n)

                    copy_file(
                        path, target, mode=stat.S_IMODE(info.st_mode), progress=step, cancel=cancel
                    )
                copied[key] = target
                done += info.st_size
                report(str(relative))
        # The "incomplete" marker stays until the switch made this copy live (mark_live).
        (new / STORE_MARKER).write_text("lexitui model store\n")
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise


def mark_live(new: Path) -> None:
    """After the switch: the copy is the live store, no longer a leftover to replace."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(new / INCOMPLETE_MARKER)


def remove_old(old: Path) -> None:
    """Step 3's delete; a store already gone is fine (the finish may run twice)."""
    if os.path.lexists(old) and stat.S_ISDIR(os.lstat(old).st_mode):
        shutil.rmtree(old)


def _walk(root: Path) -> list[tuple[Path, os.stat_result]]:
    """Everything under ``root`` but the skipped folders and markers, parents first."""
    out: list[tuple[Path, os.stat_result]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        if here == root:
            dirnames[:] = [d for d in dirnames if d not in SKIPPED_FOLDERS]
            filenames = [f for f in filenames if f not in (STORE_MARKER, INCOMPLETE_MARKER)]
        dirnames.sort()
        for name in [*dirnames, *sorted(filenames)]:
            path = here / name
            with contextlib.suppress(FileNotFoundError):
                out.append((path, os.lstat(path)))
    return out


def _reaimed(target: str, old: Path, new: Path) -> str:
    """A link into the old store points at the same file in the new one; others are kept."""
    if not os.path.isabs(target):
        return target
    for root in (old, Path(os.path.realpath(old))):
        if is_within(Path(target), root):
            return str(new / Path(target).relative_to(root))
    return target


def _same_device(old: Path, new: Path) -> bool:
    probe = new
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return os.stat(old).st_dev == os.stat(probe).st_dev

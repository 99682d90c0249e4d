"""Exporting an installed model: its file (every part of a split set) copied out under its own
name, never over an existing file.

Each part is written to a hidden temporary name beside its destination and then linked into
place, which fails instead of replacing a file that appeared meanwhile; file systems without
hard links (FAT on a USB stick) get a rename after a last check.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from lexitui.files.copying import Progress, copy_file
from lexitui.gguf.text import safe_text
from lexitui.storage.errors import StorageError
from lexitui.storage.parts import model_parts

EXPORT_MODE = 0o644  # the user's own file now, like any other they copy


def export_targets(first: Path, dest: Path | str) -> list[tuple[Path, Path]]:
    """(source, destination) per part; raises StorageError for a destination that will not do.

    A destination written with a trailing slash names a folder (created when missing, inside
    an existing one), like an existing folder: the parts go inside it under their own names.
    ``Path`` drops that slash, so it is read from the text as given."""
    parts = model_parts(first)
    as_folder = str(dest).endswith(("/", os.sep))
    dest = Path(os.path.abspath(Path(dest).expanduser()))
    if as_folder and not dest.is_dir():
        if not dest.parent.is_dir():
            raise StorageError(f"{safe_text(str(dest.parent))} is not a folder")
        try:
            dest.mkdir()
        except FileExistsError:
            raise StorageError(f"{safe_text(str(dest))} is not a folder") from None
    if dest.is_dir():
        pairs = [(p, dest / p.name) for p in parts]
    elif len(parts) == 1 and dest.parent.is_dir():
        pairs = [(parts[0], dest)]
    elif len(parts) > 1:
        raise StorageError(f"{safe_text(str(dest))}: a split model exports into a folder")
    else:
        raise StorageError(f"{safe_text(str(dest.parent))} is not a folder")
    for _, target in pairs:
        if os.path.lexists(target):
            raise StorageError(f"{safe_text(str(target))} exists; not overwritten")
    return [(Path(os.path.realpath(src)), target) for src, target in pairs]


def export_files(
    pairs: list[tuple[Path, Path]],
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> list[Path]:
    """Blocking: run in a thread."""
    written: list[Path] = []
    done_before = 0
    try:
        for src, target in pairs:
            tmp = target.with_name(f".{target.name}.lexitui-{os.getpid()}.partial")

            def step(done: int, base: int = done_before) -> None:
                if progress is not None:
                    progress(base + done)

            copy_file(src, tmp, mode=EXPORT_MODE, progress=step, cancel=cancel)
            _place(tmp, target)
            written.append(target)
            done_before += os.stat(target).st_size
    except BaseException:
        for path in written:  # all parts or none: half a split set loads nowhere
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        raise
    return written


def _place(tmp: Path, target: Path) -> None:
    try:
        os.link(tmp, target)
    except FileExistsError:
        os.unlink(tmp)
        raise StorageError(
            f"{safe_text(str(target))} appeared meanwhile; not overwritten"
        ) from None
    except OSError:
        if os.path.lexists(target):
            os.unlink(tmp)
            raise StorageError(f"{safe_text(str(target))} exists; not overwritten") from None
        os.rename(tmp, target)
        return
    os.unlink(tmp)

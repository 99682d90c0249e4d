"""Importing a GGUF file the user has into lexitui's store: copy, move, hard link or symlink.

The file is checked before anything is written: its GGUF header must parse (the bounded parser
rejects a malformed or hostile file), a split set must be complete, and it must not already be
in the store. Copied bytes land in ``temp/`` first, are hashed on the way, and (with
verification on) read back and compared before they are renamed to their content-addressed
blob, so a bad copy never becomes a model. A move copies (or hard links) first and removes the
original only once the model is installed: a crash at any point leaves the file somewhere.

A symlink import writes no blob: the model's folder links to the user's file, and deleting the
model removes the link, never the file.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lexitui.domain.models import InvalidModelId, check_model_id, model_id_from_filename
from lexitui.domain.storage import HeaderFacts, ImportMode, ModelImportOptions
from lexitui.downloads.layout import StoreLayout
from lexitui.files.copying import Progress, copy_file, hash_file, link_into
from lexitui.files.host_lock import this_host
from lexitui.gguf.errors import GgufError
from lexitui.gguf.local import read_local_header
from lexitui.gguf.text import safe_text
from lexitui.storage.errors import StorageError
from lexitui.storage.facts import facts_of
from lexitui.storage.parts import model_parts, whole_name
from lexitui.storage.paths import is_within


@dataclass(frozen=True)
class ImportPlan:
    source: Path  # as the user gave it
    parts: tuple[Path, ...]  # real paths, in load order
    names: tuple[str, ...]  # the names the parts keep in the model's folder
    model_id: str
    name: str
    facts: HeaderFacts
    size_bytes: int


@dataclass(frozen=True)
class ImportedFile:
    name: str
    sha256: str | None  # None for a symlinked file
    size: int
    target: Path  # the blob, or the user's file for a symlink


def plan_import(source: Path, options: ModelImportOptions, layout: StoreLayout) -> ImportPlan:
    """Check the file and choose id and name; blocking, writes nothing."""
    given = Path(os.path.abspath(source.expanduser()))
    shown = safe_text(str(given))
    if not os.path.isfile(given):
        raise StorageError(f"{shown} is not a file")
    parts = model_parts(given)
    real = tuple(Path(os.path.realpath(p)) for p in parts)
    store = Path(os.path.realpath(layout.root))
    if any(is_within(p, store) for p in real):
        raise StorageError(f"{shown} is already inside lexitui's model store")
    try:
        facts = facts_of(read_local_header(real[0]))
    except GgufError as exc:
        reason = str(exc).removeprefix(safe_text(str(real[0])) + ": ")
        raise StorageError(f"{shown} is not a valid GGUF file: {reason}") from None
    stem = whole_name(given)
    try:
        model_id = check_model_id(options.custom_id) if options.custom_id else None
        model_id = model_id or model_id_from_filename(stem)
    except InvalidModelId as exc:
        raise StorageError(str(exc)) from None
    name = options.custom_name or (stem[: -len(".gguf")] if stem.endswith(".gguf") else stem)
    return ImportPlan(
        source=given,
        parts=real,
        names=tuple(p.name for p in parts),
        model_id=model_id,
        name=safe_text(name, 120),
        facts=facts,
        size_bytes=sum(os.stat(p).st_size for p in real),
    )


def bring_in(
    plan: ImportPlan,
    layout: StoreLayout,
    options: ModelImportOptions,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> list[ImportedFile]:
    """Put the parts in the store (as blobs, or as links) and the model's folder; blocking."""
    layout.ensure()
    folder = layout.install_dir(plan.model_id)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    done_before = 0
    files: list[ImportedFile] = []
    for part, name in zip(plan.parts, plan.names, strict=True):
        size = os.stat(part).st_size

        def step(done: int, base: int = done_before) -> None:
            if progress is not None:
                progress(base + done)

        if options.mode is ImportMode.SYMLINK:
            files.append(ImportedFile(name, None, size, part))
        else:
            digest = _to_blob(part, layout, options, step, cancel)
            files.append(ImportedFile(name, digest, size, layout.blob_path(digest)))
        done_before += size
    try:
        _check_first_header(files[0].target)
        for f in files:
            link_into(f.target, folder / f.name, symbolic=options.mode is ImportMode.SYMLINK)
    except BaseException:
        _drop_folder(folder)
        raise
    return files


def manifest_bytes(plan: ImportPlan, files: list[ImportedFile], mode: ImportMode) -> bytes:
    """The same manifest shape the downloader writes, so one reader serves both."""
    document = {
        "schema": 1,
        "id": plan.model_id,
        "name": plan.name,
        "format": "gguf",
        "source": {"registry": "import", "path": str(plan.source), "mode": mode.value},
        "files": [
            {
                "name": f.name,
                "digest": f"sha256-{f.sha256}" if f.sha256 else None,
                "size": f.size,
                **({"target": str(f.target)} if f.sha256 is None else {}),
            }
            for f in files
        ],
        "installed_at": datetime.now(UTC).isoformat(),
        "written_by": {"host": this_host(), "pid": os.getpid()},
    }
    return (json.dumps(document, indent=2) + "\n").encode()


def remove_originals(plan: ImportPlan) -> None:
    """The last step of a move: the model is installed, the originals can go."""
    for part in plan.parts:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(part)


def _to_blob(
    part: Path,
    layout: StoreLayout,
    options: ModelImportOptions,
    progress: Progress,
    cancel: threading.Event | None,
) -> str:
    tmp = layout.temp_dir / f"{os.getpid()}-{uuid.uuid4().hex}.import"
    try:
        if options.mode is ImportMode.COPY:
            digest = copy_file(part, tmp, progress=progress, cancel=cancel, want_hash=True)
            assert digest is not None
        else:  # a hard link, and a move: linked now, the original unlinked once installed
            _hard_link(part, tmp, options.mode)
            digest = hash_file(tmp, progress, cancel)
        if options.verify_integrity and options.mode is ImportMode.COPY:
            again = hash_file(tmp, cancel=cancel)
            if again != digest:
                raise StorageError(
                    f"the copy of {safe_text(part.name)} differs from the original "
                    "(a failing disk?); nothing was imported"
                )
        blob = layout.blob_path(digest)
        if layout.has_blob(digest, os.stat(tmp).st_size):
            os.unlink(tmp)  # the same bytes are installed already: share them
        else:
            os.replace(tmp, blob)
        return digest
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _hard_link(part: Path, tmp: Path, mode: ImportMode) -> None:
    try:
        os.link(part, tmp, follow_symlinks=False)
    except OSError as exc:
        if exc.errno == errno.EXDEV and mode is ImportMode.MOVE:
            copy_file(part, tmp)  # another file system: a move copies, then deletes
            return
        raise StorageError(
            f"cannot hard-link {safe_text(part.name)} into the store ({exc.strerror}); "
            "hard links need the same file system: import a copy instead"
        ) from None


def _check_first_header(path: Path) -> None:
    try:
        read_local_header(path)
    except GgufError as exc:
        raise StorageError(f"the imported file failed its header check: {exc}") from None


def _drop_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            os.unlink(entry)
        folder.rmdir()

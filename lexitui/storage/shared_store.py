"""A model store shared by several hosts (a network file system they all mount): models that
another host downloaded are registered here after checking them, never downloaded again.

Each manifest names the host that wrote it. On this host, a manifest with no row here is a
crash's leftover only if this host wrote it; another host's is a model to adopt. Adopting
checks every file against the sha256 its manifest records (and the GGUF header), and refuses,
with the reason, a file that does not match: a copy damaged on the wire or on the server is
never loaded. A model whose lock is held (being downloaded or deleted) is left for later.
"""

from __future__ import annotations

import asyncio
import os
import stat
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lexitui.domain.enums import ModelFormat
from lexitui.domain.hardware import JsonRecord
from lexitui.domain.models import InvalidModelId
from lexitui.downloads import model_lock
from lexitui.downloads.cleanup import cleanup_partials
from lexitui.downloads.errors import UnsafePathError
from lexitui.downloads.layout import DIGEST, StoreLayout, inside
from lexitui.downloads.records import CleanupResult
from lexitui.editions.entitlements import OPEN, Entitlements
from lexitui.editions.tiers import Action
from lexitui.files.copying import hash_file
from lexitui.files.host_lock import HostLock, LockHeld, is_stale, lease_s, read_holder, this_host
from lexitui.files.mounts import Mount, store_mount
from lexitui.gguf.errors import GgufError
from lexitui.gguf.local import read_local_header
from lexitui.gguf.text import safe_text
from lexitui.storage.errors import StorageError
from lexitui.storage.store_files import manifest_ids, read_document
from lexitui.store.installed_models import ModelRegistry
from lexitui.store.model_rows import StorageRows


@dataclass(frozen=True)
class Refused(JsonRecord):
    model_id: str
    host: str
    reason: str


@dataclass(frozen=True)
class SharedSync(JsonRecord):
    """What ``lexitui storage sync`` did: models adopted, refused (why), left while busy."""

    mount: str | None  # "nfs4 server:/export (shared)"
    registered: tuple[str, ...] = ()
    refused: tuple[Refused, ...] = ()
    busy: tuple[str, ...] = ()


def writer_of(doc: dict[str, Any] | None) -> str | None:
    """The host that wrote a manifest; None for one written before manifests said so."""
    written = doc.get("written_by") if doc else None
    host = written.get("host") if isinstance(written, dict) else None
    return host if isinstance(host, str) and host else None


def written_elsewhere(layout: StoreLayout, model_id: str, host: str | None = None) -> bool:
    """The manifest was written by another host sharing the store: not this host's leftover."""
    writer = writer_of(read_document(layout, model_id))
    return writer is not None and writer != (host or this_host())


def hold_for_delete(layout: StoreLayout, model_id: str) -> HostLock:
    """The model's lock for deleting it; StorageError naming the holder when it is taken."""
    try:
        return model_lock.take(layout, model_id, "delete")
    except LockHeld as held:
        raise StorageError(f"{held}; try again when it is done") from None


def cleanup_partials_here(
    layout: StoreLayout, keep: Collection[str], mounts: list[Mount] | None = None
) -> CleanupResult:
    """Partials nobody will resume; on a network file system, not one another host wrote to
    within the lock lease (its ``flock`` may not reach this host). Blocking."""
    mount = store_mount(layout.root, mounts)
    spare = lease_s() if mount is not None and mount.is_network else 0.0
    return cleanup_partials(layout, keep, spare_younger_than=spare)


def mount_line(mount: Mount | None) -> str | None:
    return mount.describe() if mount is not None else None


async def sync_shared_store(
    layout: StoreLayout,
    registry: ModelRegistry,
    rows: StorageRows,
    *,
    entitlements: Callable[[], Entitlements] = lambda: OPEN,
    cancel: threading.Event | None = None,
) -> SharedSync:
    """Register, after checking them, the models other hosts put in the shared store."""
    entitlements().require(Action.NETWORK_STORAGE)
    host = this_host()
    mount = await asyncio.to_thread(store_mount, layout.root)
    known = {m.id for m in await rows.all()}
    registered: list[str] = []
    refused: list[Refused] = []
    busy: list[str] = []
    for model_id in await asyncio.to_thread(manifest_ids, layout):
        doc = await asyncio.to_thread(read_document, layout, model_id)
        writer = writer_of(doc)
        if model_id in known or doc is None or writer is None or writer == host:
            continue
        if _being_written(layout, model_id, host):
            busy.append(model_id)
            continue
        checked = await asyncio.to_thread(check_model, layout, model_id, doc, cancel)
        if isinstance(checked, str):
            refused.append(Refused(model_id, writer, checked))
            continue
        await registry.add(
            model_id,
            str(doc.get("name") or model_id),
            checked,
            source=_source(doc),
            registered_by_path=False,
            model_format=_format(doc),
        )
        registered.append(model_id)
    return SharedSync(mount_line(mount), tuple(registered), tuple(refused), tuple(busy))


def check_model(
    layout: StoreLayout, model_id: str, doc: dict[str, Any], cancel: threading.Event | None
) -> Path | str:
    """The path to load (the first file) when every file matches its recorded sha256; else
    the reason it does not. Blocking: hashes every file."""
    files = doc.get("files")
    if not isinstance(files, list) or not files:
        return "its manifest lists no files"
    folder = layout.install_dir(model_id)
    paths: list[Path] = []
    for entry in files:
        name, digest = (
            (entry.get("name"), entry.get("digest")) if isinstance(entry, dict) else ("", "")
        )
        if not isinstance(name, str) or not isinstance(digest, str) or not DIGEST.fullmatch(digest):
            return f"{safe_text(str(name))}: no sha256 recorded (a file linked from its host)"
        try:
            path = inside(folder, name)
            blob = layout.blob_path(digest[7:])
        except (UnsafePathError, InvalidModelId) as exc:
            return str(exc)
        if not _same_file(path, blob):
            return f"{safe_text(name)}: not in the shared store (missing or replaced)"
        size = entry.get("size")
        if isinstance(size, int) and os.stat(blob).st_size != size:
            return f"{safe_text(name)}: {os.stat(blob).st_size} bytes, the manifest records {size}"
        computed = hash_file(blob, None, cancel)
        if computed != digest[7:]:
            return (
                f"{safe_text(name)}: sha256 {computed[:12]}… does not match the recorded "
                f"{digest[7:19]}…"
            )
        paths.append(path)
    if _format(doc) is ModelFormat.GGUF:
        try:
            read_local_header(paths[0])
        except GgufError as exc:
            return f"{safe_text(paths[0].name)}: {exc}"
    return paths[0]


def _being_written(layout: StoreLayout, model_id: str, host: str) -> bool:
    path = layout.lock_path(model_id)
    holder = read_holder(path)
    if holder is None:
        return False
    try:
        mtime = os.lstat(path).st_mtime
    except FileNotFoundError:
        return False
    return not is_stale(holder, host=host, lease=lease_s(), now=time.time(), mtime=mtime)


def _same_file(path: Path, blob: Path) -> bool:
    """``path`` is the blob itself (a hard link), or a symlink the writer made to it."""
    try:
        there, mine = os.stat(path), os.lstat(blob)
    except OSError:
        return False
    return stat.S_ISREG(mine.st_mode) and (there.st_dev, there.st_ino) == (
        mine.st_dev,
        mine.st_ino,
    )


def _source(doc: dict[str, Any]) -> str:
    source = doc.get("source")
    registry = source.get("registry") if isinstance(source, dict) else None
    model = source.get("model") if isinstance(source, dict) else None
    if registry == "import" or not isinstance(model, str):
        return "import"
    return f"hf:{model}" if registry == "hugging_face" else f"url:{model}"


def _format(doc: dict[str, Any]) -> ModelFormat:
    try:
        return ModelFormat(doc.get("format", ModelFormat.GGUF.value))
    except ValueError:
        return ModelFormat.GGUF

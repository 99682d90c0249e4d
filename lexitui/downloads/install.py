"""Installing verified blobs as a model: hard links with the original names, a manifest, a row.

A split GGUF is loaded by passing llama.cpp its first part; llama.cpp derives the others'
names from it (``prefix-00002-of-00003.gguf``) in the same folder. So each model gets a folder
holding every part under its original name, as a hard link to the content-addressed blob (no
copy; a second model sharing a blob shares the bytes). Where hard links are impossible the
link is a symlink to the blob, which we made ourselves.

Every step is idempotent, so a kill half-way through is repaired by running the install again:
links are replaced by rename, the manifest is written atomically, the row is an upsert.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lexitui.domain.downloads import ModelDownload
from lexitui.domain.enums import ModelRegistryType
from lexitui.domain.models import InstalledModel, check_model_id, model_id_from_filename
from lexitui.downloads.errors import TransientError, UnsafePathError
from lexitui.downloads.layout import StoreLayout, inside
from lexitui.events import EventBus, ModelInstalled
from lexitui.files.atomic import write_atomic
from lexitui.files.host_lock import this_host
from lexitui.store.installed_models import ModelRegistry

MANIFEST_SCHEMA = 1
_UNSAFE_ID = re.compile(r"[^a-z0-9._:-]+")


@dataclass(frozen=True)
class Blob:
    sha256: str
    size: int
    name: str  # the file's original name (last path segment), checked
    remote_path: str
    pending: bool = False  # verified, still a partial: becomes the blob just before install


def install_id(download: ModelDownload) -> str:
    """``owner.repo:variant`` for a Hub model (unique, and ``:tag`` reads like Ollama's);
    the file name's slug for a plain URL."""
    model, variant = download.model, download.variant
    if model.registry is ModelRegistryType.HUGGING_FACE and "/" in model.id:
        owner, name = model.id.split("/", 1)
        raw = f"{owner}.{name}:{variant.variant_id}".lower()
        slug = _UNSAFE_ID.sub("-", raw).strip("-._:")[:128]
        return check_model_id(slug)
    return model_id_from_filename(variant.filename.rsplit("/", 1)[-1])


def model_name(download: ModelDownload) -> str:
    label = download.variant.quantization_label or download.variant.variant_id
    return f"{download.model.name} ({label})"


async def install(
    layout: StoreLayout,
    registry: ModelRegistry,
    bus: EventBus,
    download: ModelDownload,
    blobs: list[Blob],
) -> InstalledModel:
    model_id = install_id(download)
    folder = layout.install_dir(model_id)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not stat.S_ISDIR(os.lstat(folder).st_mode):
        raise UnsafePathError(f"{folder} is not a folder (a planted link?); refusing it")
    names = [b.name for b in blobs]
    if len(set(names)) != len(names):
        raise UnsafePathError(f"two files of {download.variant.variant_id} share a name")
    for blob in blobs:
        if not layout.has_blob(blob.sha256, blob.size):  # swept by another instance meanwhile
            raise TransientError(f"the stored copy of {blob.name} vanished; fetching it again")
        _link(layout.blob_path(blob.sha256), inside(folder, blob.name))
    write_atomic(layout.manifest_path(model_id), _manifest(model_id, download, blobs), shared=True)
    path = inside(folder, blobs[0].name)
    installed = await registry.add(
        model_id,
        model_name(download),
        path,
        source=_source(download),
        registered_by_path=False,
        model_format=download.variant.format,
    )
    bus.publish(ModelInstalled(model_id, str(path), sum(b.size for b in blobs)))
    return installed


def _link(blob: Path, dest: Path) -> None:
    """Put a link to ``blob`` at ``dest`` atomically (replacing whatever was there).

    Another instance may have installed the same model a moment ago: ``dest`` is then already
    a hard link to the blob, and renaming a link over another link to the same file does
    nothing at all (POSIX), which would leave the temp link behind. So such a ``dest`` is left
    as it is, and a temp link that survived the rename is removed."""
    if _same_file(blob, dest):
        return
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    try:
        os.link(blob, tmp, follow_symlinks=False)
    except OSError:  # no hard links on this file system (or across a bind mount)
        # Relative: hosts sharing the store may mount it at different paths.
        os.symlink(os.path.relpath(blob, tmp.parent), tmp)
    try:
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _same_file(blob: Path, dest: Path) -> bool:
    try:
        there = os.lstat(dest)
    except FileNotFoundError:
        return False
    mine = os.stat(blob)
    return stat.S_ISREG(there.st_mode) and (there.st_dev, there.st_ino) == (
        mine.st_dev,
        mine.st_ino,
    )


def _source(download: ModelDownload) -> str:
    model = download.model
    if model.registry is ModelRegistryType.HUGGING_FACE:
        return f"hf:{model.id}"
    return f"url:{model.id}"


def _manifest(model_id: str, download: ModelDownload, blobs: list[Blob]) -> bytes:
    variant = download.variant
    document = {
        "schema": MANIFEST_SCHEMA,
        "id": model_id,
        "name": model_name(download),
        "format": variant.format.value,
        "source": {
            "registry": download.model.registry.value,
            "model": download.model.id,
            "variant": variant.variant_id,
            "quantization": variant.quantization_label,
        },
        # In load order: llama.cpp is given the first and finds the rest by name.
        "files": [
            {"name": b.name, "path": b.remote_path, "digest": f"sha256-{b.sha256}", "size": b.size}
            for b in blobs
        ],
        "installed_at": datetime.now(UTC).isoformat(),
        # On a store shared by hosts, the others register this model rather than remove it.
        "written_by": {"host": this_host(), "pid": os.getpid()},
    }
    return (json.dumps(document, indent=2) + "\n").encode()

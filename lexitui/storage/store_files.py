"""lexitui's own model store on disk: which blobs a model's manifest names, what deleting it
would free, and deleting it.

A blob (``blobs/sha256-{hex}``) may serve several models (two variants sharing a part, or the
same file installed twice): it is removed only when no other manifest names it. Bytes count as
freed only when the last link to a file goes, so a blob that an import hard-linked from the
user's own file frees nothing, and the number says so.

Nothing outside the store's root is ever deleted, whatever a row or manifest says.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lexitui.domain.models import InvalidModelId, check_model_id
from lexitui.downloads.layout import DIGEST, StoreLayout
from lexitui.storage.paths import is_within

MAX_MANIFEST_BYTES = 1 << 20
MANIFEST_SUFFIX = ".json"


@dataclass(frozen=True)
class ManifestFile:
    name: str
    digest: str | None  # hex; None for a linked file (a symlink import)
    size: int


def read_document(layout: StoreLayout, model_id: str) -> dict[str, Any] | None:
    """A model's manifest as JSON (a regular file, read up to its cap); None when unusable."""
    try:
        path = layout.manifest_path(model_id)
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        with open(path, "rb") as handle:
            doc = json.loads(handle.read(MAX_MANIFEST_BYTES))
    except (OSError, ValueError, InvalidModelId):
        return None
    return doc if isinstance(doc, dict) else None


def read_manifest(layout: StoreLayout, model_id: str) -> list[ManifestFile] | None:
    """The files a model's manifest lists, in load order; None when it has no usable one."""
    doc = read_document(layout, model_id)
    files = doc.get("files") if doc is not None else None
    if not isinstance(files, list):
        return None
    out = []
    for entry in files:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            return None
        digest = entry.get("digest")
        hex_digest = digest[7:] if isinstance(digest, str) and DIGEST.fullmatch(digest) else None
        size = entry.get("size")
        out.append(ManifestFile(entry["name"], hex_digest, size if isinstance(size, int) else 0))
    return out


def manifest_ids(layout: StoreLayout) -> list[str]:
    try:
        names = os.listdir(layout.manifests_dir)
    except OSError:
        return []
    ids = []
    for name in sorted(names):
        if not name.endswith(MANIFEST_SUFFIX):
            continue
        with contextlib.suppress(InvalidModelId):
            ids.append(check_model_id(name[: -len(MANIFEST_SUFFIX)]))
    return ids


def referenced_digests(layout: StoreLayout, excluding: str | None = None) -> set[str]:
    digests: set[str] = set()
    for model_id in manifest_ids(layout):
        if model_id == excluding:
            continue
        for f in read_manifest(layout, model_id) or ():
            if f.digest:
                digests.add(f.digest)
    return digests


def blob_digests(layout: StoreLayout) -> list[str]:
    try:
        names = os.listdir(layout.blobs_dir)
    except OSError:
        return []
    return sorted(n[7:] for n in names if DIGEST.fullmatch(n))


@dataclass(frozen=True)
class Removal:
    """What deleting one model removes: its folder's entries, its manifest, its own blobs."""

    install_dir: Path | None
    files: tuple[Path, ...]  # entries (links and files) that go, never followed
    manifest: Path | None


def plan_removal(layout: StoreLayout, model_id: str, row_path: str) -> Removal:
    root = Path(os.path.realpath(layout.root))
    files: list[Path] = []
    install_dir: Path | None = None
    with contextlib.suppress(InvalidModelId):
        folder = layout.install_dir(model_id)
        if _is_real_dir(folder):
            install_dir = folder
            files += _entries(folder)
    path = Path(row_path)
    if row_path and install_dir is None and is_within(Path(os.path.realpath(path.parent)), root):
        files.append(path)  # installed some other way, but inside the store: ours
    manifest = read_manifest(layout, model_id)
    others = referenced_digests(layout, excluding=model_id)
    for f in manifest or ():
        if f.digest and f.digest not in others:
            files.append(layout.blob_path(f.digest))
    manifest_path: Path | None = None
    with contextlib.suppress(InvalidModelId):
        candidate = layout.manifest_path(model_id)
        manifest_path = candidate if os.path.lexists(candidate) else None
    return Removal(install_dir, tuple(files), manifest_path)


def freed_by(removal: Removal) -> int:
    """Bytes that removing these entries gives back: files whose every link is among them."""
    links: dict[tuple[int, int], int] = {}
    sizes: dict[tuple[int, int], tuple[int, int]] = {}
    for path in removal.files:
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue  # a symlink frees nothing worth counting
        key = (info.st_dev, info.st_ino)
        links[key] = links.get(key, 0) + 1
        sizes[key] = (info.st_nlink, info.st_size)
    return sum(size for key, (nlink, size) in sizes.items() if links[key] >= nlink)


def carry_out(removal: Removal) -> list[str]:
    """Delete the folder's entries and the blobs, then the manifest. The caller removed the
    row first, so a crash half-way leaves a manifest without a row or blobs without a
    manifest: reconciliation collects both. Returns the paths removed."""
    removed = []
    for path in removal.files:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # unlink never follows a link: a symlink import's target stays
            removed.append(str(path))
    if removal.manifest is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(removal.manifest)
            removed.append(str(removal.manifest))
    if removal.install_dir is not None and _is_real_dir(removal.install_dir):
        shutil.rmtree(removal.install_dir, ignore_errors=True)
    return removed


def _entries(folder: Path) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        out += [Path(dirpath) / n for n in sorted(filenames)]
        # os.walk lists a symlink to a folder among dirnames; it is an entry to unlink too.
        out += [Path(dirpath) / n for n in dirnames if os.path.islink(Path(dirpath) / n)]
    return out


def _is_real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False

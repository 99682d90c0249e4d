"""Where downloads and installed models live inside the model store, and the path checks.

::

    {models_dir}/downloads/{key}.partial, {key}.meta   bytes so far, and what they are
    {models_dir}/blobs/sha256-{hash}                   verified files, named by content
    {models_dir}/manifests/{model-id}.json             what a model is made of
    {models_dir}/installed/{model-id}/{file name}      hard links to the blobs, original names
    {models_dir}/temp/                                 scratch space
    {models_dir}/locks/{model-id}.lock                 who is writing a model (host and pid)

Installed models get a folder of their own under ``installed/`` rather than beside ``blobs``,
so no model id can collide with the store's own folders. The folder keeps each file's original
name because llama.cpp finds the parts of a split model by name (``-00002-of-00003.gguf`` beside
the first part), and a blob name says nothing.

Every name that reaches a path here is checked: remote names (P1), digests (P2), model ids, and
the joined path must stay inside its folder. Files are opened with ``O_NOFOLLOW`` by callers so
a symlink planted at a partial or blob path is never followed (P3).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lexitui.discovery.repo_files import UnsafeNameError, check_repo_path
from lexitui.domain.models import check_model_id
from lexitui.downloads.errors import UnsafePathError

DIGEST = re.compile(r"^sha256-[0-9a-f]{64}$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
# Partial keys are ours (a download id plus a part number), never a remote name.
PARTIAL_KEY = re.compile(r"^[0-9a-f]{8,64}(?:\.[0-9]{1,4})?$")
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def check_sha256(value: str) -> str:
    """A lower-case hex sha256, or UnsafePathError (it becomes part of a file name)."""
    if not SHA256_HEX.fullmatch(value):
        raise UnsafePathError(f"{value[:80]!r} is not a sha256 digest")
    return value


def digest_name(sha256: str) -> str:
    name = f"sha256-{check_sha256(sha256)}"
    if not DIGEST.fullmatch(name):  # the allowlist itself, whatever check_sha256 becomes (P2)
        raise UnsafePathError(f"{name!r} is not a blob name")
    return name


def local_file_name(remote_path: str) -> str:
    """The last segment of a checked repo path: the name a part is installed under (P1)."""
    try:
        check_repo_path(remote_path)
    except UnsafeNameError as exc:
        raise UnsafePathError(str(exc)) from None
    return PurePosixPath(remote_path).name


def inside(root: Path, name: str) -> Path:
    """``root / name`` for a single plain name, refusing anything that would leave ``root``."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise UnsafePathError(f"refusing the file name {name!r}")
    joined = root / name
    if os.path.normpath(joined).rsplit(os.sep, 1)[0] != os.path.normpath(root):
        raise UnsafePathError(f"{name!r} would leave {root}")
    return joined


def is_plain_file(path: Path) -> bool:
    """True for a regular file that is not a symlink (lstat: the link itself is looked at)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


@dataclass(frozen=True)
class StoreLayout:
    root: Path  # the models dir

    @property
    def downloads_dir(self) -> Path:
        return self.root / "downloads"

    @property
    def blobs_dir(self) -> Path:
        return self.root / "blobs"

    @property
    def manifests_dir(self) -> Path:
        return self.root / "manifests"

    @property
    def installed_dir(self) -> Path:
        return self.root / "installed"

    @property
    def temp_dir(self) -> Path:
        return self.root / "temp"

    @property
    def locks_dir(self) -> Path:
        return self.root / "locks"

    def ensure(self) -> None:
        for folder in (
            self.downloads_dir,
            self.blobs_dir,
            self.manifests_dir,
            self.installed_dir,
            self.temp_dir,
            self.locks_dir,
        ):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            if os.path.islink(folder):
                raise UnsafePathError(f"{folder} is a symlink; refusing to write through it")

    def blob_path(self, sha256: str) -> Path:
        return inside(self.blobs_dir, digest_name(sha256))

    def partial_path(self, key: str) -> Path:
        return inside(self.downloads_dir, f"{_check_key(key)}.partial")

    def meta_path(self, key: str) -> Path:
        return inside(self.downloads_dir, f"{_check_key(key)}.meta")

    def manifest_path(self, model_id: str) -> Path:
        return inside(self.manifests_dir, f"{check_model_id(model_id)}.json")

    def lock_path(self, model_id: str) -> Path:
        return inside(self.locks_dir, f"{check_model_id(model_id)}.lock")

    def install_dir(self, model_id: str) -> Path:
        return inside(self.installed_dir, check_model_id(model_id))

    def has_blob(self, sha256: str, size: int | None) -> bool:
        """A verified blob is there: a regular file (not a planted link) of the right size."""
        path = self.blob_path(sha256)
        if not is_plain_file(path):
            return False
        return size is None or path.stat().st_size == size


def partial_key(download_id: str, index: int, count: int) -> str:
    """``{id}`` for a single file, ``{id}.{n}`` for part n (from 1) of a split set."""
    return _check_key(download_id if count == 1 else f"{download_id}.{index + 1}")


def _check_key(key: str) -> str:
    if not PARTIAL_KEY.fullmatch(key):
        raise UnsafePathError(f"{key!r} is not a download key")
    return key

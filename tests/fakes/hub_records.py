"""The fake Hub's repositories and files, and the hashes the Hub derives from them.

Three kinds of file:

* **served** from memory (``text_file``, ``blob_file``) or from disk (``disk_file``): size,
  sha256 and ETag are computed from the real bytes, so what the tree lists, what ``resolve``
  announces and what the CDN sends always agree;
* **listed only** (``listed_file``): a big quant we list with a realistic size so search,
  variants and fit estimates see real-world numbers. Its "sha256" is a stand-in derived from its
  name, because no bytes exist to hash: ``resolve`` answers 404 ``EntryNotFound`` for it saying
  so, rather than announcing a size it could not serve.

Git object ids follow git: a regular file's oid is the sha1 of its blob; an LFS file's oid is the
sha1 of its pointer file (whose size the tree reports as ``pointerSize``).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Files the Hub keeps in LFS (what a repo's default .gitattributes tracks).
LFS_SUFFIXES = (".gguf", ".safetensors", ".bin", ".pt", ".pth", ".onnx", ".model", ".imatrix")


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()
    )


@functools.cache
def _disk_digests(path: Path) -> tuple[str, str]:
    """(sha256, md5) of a file, read once per test session (the starter model is ~98 MB)."""
    sha, md5 = hashlib.sha256(), hashlib.md5()
    with path.open("rb") as handle:
        while piece := handle.read(1 << 20):
            sha.update(piece)
            md5.update(piece)
    return sha.hexdigest(), md5.hexdigest()


@dataclass
class HubFile:
    path: str
    size: int
    lfs: bool
    content: bytes | None = None
    source: Path | None = None
    declared_sha256: str | None = None  # listed-only files: a stand-in, see the module doc

    @property
    def served(self) -> bool:
        return self.content is not None or self.source is not None

    @property
    def sha256(self) -> str:
        if self.content is not None:
            return hashlib.sha256(self.content).hexdigest()
        if self.source is not None:
            return _disk_digests(self.source)[0]
        assert self.declared_sha256 is not None
        return self.declared_sha256

    @property
    def cdn_etag(self) -> str:
        """What an S3-backed CDN sends as ETag for a single-part object: the md5 of its bytes."""
        if self.content is not None:
            return hashlib.md5(self.content).hexdigest()
        assert self.source is not None
        return _disk_digests(self.source)[1]

    @property
    def git_oid(self) -> str:
        if self.lfs:
            return git_blob_oid(lfs_pointer(self.sha256, self.size))
        assert self.content is not None
        return git_blob_oid(self.content)

    @property
    def pointer_size(self) -> int:
        return len(lfs_pointer(self.sha256, self.size))

    @property
    def body(self) -> bytes | str:
        if self.content is not None:
            return self.content
        assert self.source is not None
        return str(self.source)


def text_file(path: str, text: str) -> HubFile:
    data = text.encode()
    return HubFile(path, len(data), lfs=path.endswith(LFS_SUFFIXES), content=data)


def blob_file(path: str, data: bytes) -> HubFile:
    return HubFile(path, len(data), lfs=True, content=data)


def disk_file(path: str, source: Path) -> HubFile:
    return HubFile(path, source.stat().st_size, lfs=True, source=source)


def listed_file(repo_id: str, path: str, size: int) -> HubFile:
    stand_in = hashlib.sha256(f"listed-only:{repo_id}/{path}".encode()).hexdigest()
    return HubFile(path, size, lfs=True, declared_sha256=stand_in)


@dataclass
class HubRepo:
    id: str
    created_at: str
    last_modified: str
    downloads: int
    likes: int
    trending_score: int
    tags: list[str]
    pipeline_tag: str | None
    library_name: str | None
    card_data: dict[str, Any]
    files: list[HubFile]
    gated: str | bool = False  # False, "auto" or "manual", as the Hub spells it
    gguf: dict[str, Any] | None = None
    safetensors: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    granted_users: set[str] = field(default_factory=set)  # accepted a gated repo's terms

    @property
    def author(self) -> str:
        return self.id.split("/", 1)[0]

    @property
    def sha(self) -> str:
        return hashlib.sha1(f"commit:{self.id}".encode()).hexdigest()

    @property
    def parameters(self) -> int | None:
        """What the Hub's ``num_parameters`` filter reads: GGUF metadata, else safetensors."""
        for meta in (self.gguf, self.safetensors):
            if meta and isinstance(meta.get("total"), int):
                return int(meta["total"])
        return None

    def file(self, path: str) -> HubFile | None:
        return next((f for f in self.files if f.path == path), None)

    def directories(self) -> list[str]:
        folders: set[str] = set()
        for f in self.files:
            parts = f.path.split("/")[:-1]
            folders.update("/".join(parts[: i + 1]) for i in range(len(parts)))
        return sorted(folders)

"""The Hugging Face cache: ``models--{org}--{name}/snapshots/{revision}/{path}`` are links into
the repo's own ``blobs/`` folder, named by content (the sha256 of an LFS file).

Only those links are followed, and only into the same repo's ``blobs/`` (P3): a snapshot entry
pointing anywhere else is skipped and said why. Revisions are read newest first (the one
``refs/main`` names, then by folder time), and a file already seen in a newer revision, or a
blob already listed, is not listed twice.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from lexitui.discovery.repo_files import is_projector
from lexitui.domain.storage import HF_CACHE_SOURCE
from lexitui.storage.library_records import Candidate, SkippedFile
from lexitui.storage.library_walk import is_gguf_name, iter_files
from lexitui.storage.paths import real_inside

REPO_FOLDER = re.compile(r"^models--(?P<rest>[A-Za-z0-9][A-Za-z0-9._-]*(?:--[A-Za-z0-9._-]+)?)$")
REVISION = re.compile(r"^[0-9a-f]{40}$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
SNAPSHOT_DEPTH = 4  # folders inside a revision: "Q4_K_M/part-00001-of-00002.gguf" is one


def scan_hf_cache(root: Path) -> tuple[list[Candidate], list[SkippedFile]]:
    found: list[Candidate] = []
    skipped: list[SkippedFile] = []
    real_root = Path(os.path.realpath(root))
    try:
        with os.scandir(real_root) as listing:
            repos = sorted(e.name for e in listing if e.is_dir(follow_symlinks=False))
    except OSError:
        return found, skipped
    for folder in repos:
        match = REPO_FOLDER.match(folder)
        if match:
            _scan_repo(real_root / folder, match["rest"], found, skipped)
    return found, skipped


def _scan_repo(
    repo_dir: Path, rest: str, found: list[Candidate], skipped: list[SkippedFile]
) -> None:
    owner, _, name = rest.partition("--")
    owner_or_none, repo = (owner, name) if name else (None, owner)
    repo_id = f"{owner}/{name}" if name else owner
    blobs = repo_dir / "blobs"
    seen_paths: set[str] = set()
    seen_blobs: set[Path] = set()
    for revision in _revisions(repo_dir):
        snapshot = repo_dir / "snapshots" / revision
        for path in iter_files(snapshot, SNAPSHOT_DEPTH):
            if not is_gguf_name(path.name) or is_projector(path.name):
                continue
            relative = path.relative_to(snapshot).as_posix()
            shown = f"{repo_id}@{revision[:8]}/{relative}"
            if relative in seen_paths:
                skipped.append(SkippedFile(HF_CACHE_SOURCE, str(path), "older revision of a file"))
                continue
            real = _target(path, blobs)
            if isinstance(real, str):
                skipped.append(SkippedFile(HF_CACHE_SOURCE, str(path), real))
                continue
            seen_paths.add(relative)
            if real in seen_blobs:
                continue  # the same content under another name: listed once
            seen_blobs.add(real)
            digest = real.name if SHA256_HEX.fullmatch(real.name) else None
            found.append(
                Candidate(
                    source=HF_CACHE_SOURCE,
                    path=path,
                    real=real,
                    owner=owner_or_none,
                    repo=repo,
                    variant=None,
                    label=shown,
                    expected_sha256=digest,
                )
            )


def _target(path: Path, blobs: Path) -> Path | str:
    """The blob a snapshot entry stands for, or why it is skipped."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    if stat.S_ISREG(info.st_mode):
        return path  # caches written without symlinks (Windows, or HF_HUB_DISABLE_SYMLINKS)
    if not stat.S_ISLNK(info.st_mode):
        return "not a regular file"
    real_blobs = Path(os.path.realpath(blobs))
    real = real_inside(path, real_blobs)
    if real is None:
        if not os.path.exists(path):
            return "dangling link: its blob is missing (an interrupted download?)"
        return "link points outside the repo's blobs folder; not followed"
    if not stat.S_ISREG(os.stat(real).st_mode):
        return "link target is not a regular file"
    return real


def _revisions(repo_dir: Path) -> list[str]:
    """Snapshot folders, the one ``refs/main`` names first, then newest first."""
    snapshots = repo_dir / "snapshots"
    try:
        with os.scandir(snapshots) as listing:
            dated = [
                (e.stat(follow_symlinks=False).st_mtime, e.name)
                for e in listing
                if e.is_dir(follow_symlinks=False)
            ]
    except OSError:
        return []
    ordered = [name for _, name in sorted(dated, key=lambda d: (-d[0], d[1]))]
    main = _read_ref(repo_dir / "refs" / "main")
    if main in ordered:
        ordered.remove(main)
        ordered.insert(0, main)
    return ordered


def _read_ref(path: Path) -> str | None:
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        text = path.read_text(encoding="ascii", errors="replace")[:100].strip()
    except OSError:
        return None
    return text if REVISION.fullmatch(text) else None

"""LM Studio's models folder: ``{publisher}/{repo}/{file}.gguf``.

Files are LM Studio's own downloads or links a user made (``lms import --symbolic-link``); a
link is followed only while its target stays inside the folder (P3).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from lexitui.discovery.repo_files import is_projector
from lexitui.domain.storage import LMSTUDIO_SOURCE
from lexitui.storage.library_records import Candidate, SkippedFile
from lexitui.storage.library_walk import is_gguf_name, iter_files
from lexitui.storage.paths import real_inside

DEPTH = 3  # publisher / repo / (one more folder for split sets)


def scan_lmstudio(root: Path) -> tuple[list[Candidate], list[SkippedFile]]:
    found: list[Candidate] = []
    skipped: list[SkippedFile] = []
    real_root = Path(os.path.realpath(root))
    for path in iter_files(real_root, DEPTH):
        if not is_gguf_name(path.name) or is_projector(path.name):
            continue
        parts = path.relative_to(real_root).parts
        if len(parts) < 3:
            skipped.append(SkippedFile(LMSTUDIO_SOURCE, str(path), "not in publisher/repo/"))
            continue
        real = real_inside(path, real_root)
        if real is None:
            reason = (
                "link points outside the models folder; not followed"
                if os.path.exists(path)
                else "dangling link"
            )
            skipped.append(SkippedFile(LMSTUDIO_SOURCE, str(path), reason))
            continue
        if not stat.S_ISREG(os.stat(real).st_mode):
            skipped.append(SkippedFile(LMSTUDIO_SOURCE, str(path), "not a regular file"))
            continue
        found.append(
            Candidate(
                source=LMSTUDIO_SOURCE,
                path=path,
                real=real,
                owner=parts[0],
                repo=parts[1],
                variant=None,
                label="/".join(parts),
            )
        )
    return found, skipped

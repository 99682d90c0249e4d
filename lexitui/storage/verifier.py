"""Verifying an installed model: its GGUF header parses, and each file's sha256 matches the
digest its store knows it by.

lexitui's own manifests record a digest per file; the Hugging Face cache names LFS blobs by
their sha256, and Ollama names blobs ``sha256-{hex}``, so for those the expected hash is the
file's real name. A file with no known digest is hashed and reported, with nothing to compare.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

from lexitui.domain.storage import HF_CACHE_SOURCE, OLLAMA_SOURCE, StoredModel, VerifyReport
from lexitui.downloads.layout import EMPTY_SHA256, StoreLayout
from lexitui.files.copying import Progress, hash_file
from lexitui.gguf.errors import GgufError
from lexitui.gguf.local import read_local_header
from lexitui.gguf.text import safe_text
from lexitui.storage.errors import StorageError
from lexitui.storage.parts import model_parts
from lexitui.storage.store_files import read_manifest

_CONTENT_NAME = re.compile(r"^(?:sha256-)?([0-9a-f]{64})$")


def verify_model(
    model: StoredModel,
    layout: StoreLayout,
    *,
    rehash: bool = True,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> VerifyReport:
    """Blocking: run in a thread."""
    try:
        parts = model_parts(Path(model.model.path))
    except StorageError as exc:
        return VerifyReport(model.id, False, False, error=str(exc))
    real = [Path(os.path.realpath(p)) for p in parts]
    try:
        read_local_header(real[0])
    except GgufError as exc:
        return VerifyReport(model.id, False, False, error=str(exc), files=len(parts))
    if not rehash:
        return VerifyReport(model.id, True, True, files=len(parts))
    known = _manifest_digests(model, layout)
    by_content = not model.shared or model.model.source in (HF_CACHE_SOURCE, OLLAMA_SOURCE)
    first_expected = first_computed = None
    done_before = 0
    for index, (part, path) in enumerate(zip(parts, real, strict=True)):
        expected = known.get(part.name) or (_content_name(path) if by_content else None)

        def step(done: int, base: int = done_before) -> None:
            if progress is not None:
                progress(base + done)

        try:
            computed = hash_file(path, step, cancel)
        except OSError as exc:
            return VerifyReport(model.id, False, True, error=f"cannot read {part.name}: {exc}")
        if index == 0:
            first_expected, first_computed = expected, computed
        if computed == EMPTY_SHA256 or (expected is not None and computed != expected):
            return VerifyReport(
                model.id,
                False,
                True,
                expected,
                computed,
                f"{safe_text(part.name)}: sha256 {computed[:12]}… does not match the "
                f"expected {(expected or 'non-empty file')[:12]}…",
                len(parts),
            )
        done_before += os.stat(path).st_size
    return VerifyReport(model.id, True, True, first_expected, first_computed, None, len(parts))


def _manifest_digests(model: StoredModel, layout: StoreLayout) -> dict[str, str]:
    if model.shared:
        return {}
    return {f.name: f.digest for f in read_manifest(layout, model.id) or () if f.digest}


def _content_name(path: Path) -> str | None:
    match = _CONTENT_NAME.match(path.name)
    return match.group(1) if match else None

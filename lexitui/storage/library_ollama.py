"""Ollama's model store: ``manifests/{host}/{namespace}/{model}/{tag}`` are JSON image manifests
whose ``application/vnd.ollama.image.model`` layer names the GGUF weights, stored as
``blobs/sha256-{hex}``.

Manifests are parsed with the same strict parser as the registry's (digests allowlisted, sizes
checked, P2). A blob must be a regular file inside the store whose size matches the manifest;
Ollama never writes links there, so a link is followed only while it stays inside the store.
Several tags naming one blob are one model, listed under the first tag.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from lexitui.discovery.ollama_manifest import MODEL_LAYER, ManifestError, parse_manifest
from lexitui.domain.storage import OLLAMA_SOURCE
from lexitui.storage.library_records import Candidate, SkippedFile
from lexitui.storage.library_walk import iter_files
from lexitui.storage.paths import real_inside

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MAX_MANIFEST_BYTES = 256 * 1024


def scan_ollama(root: Path) -> tuple[list[Candidate], list[SkippedFile]]:
    found: list[Candidate] = []
    skipped: list[SkippedFile] = []
    real_root = Path(os.path.realpath(root))
    manifests = real_root / "manifests"
    seen: dict[Path, str] = {}
    for path in iter_files(manifests, 3):
        parts = path.relative_to(manifests).parts
        if len(parts) != 4:
            continue
        outcome = _candidate(real_root, path, parts)
        if isinstance(outcome, str):
            skipped.append(SkippedFile(OLLAMA_SOURCE, str(path), outcome))
        elif outcome.real in seen:
            skipped.append(
                SkippedFile(OLLAMA_SOURCE, str(path), f"same weights as {seen[outcome.real]}")
            )
        else:
            seen[outcome.real] = outcome.label
            found.append(outcome)
    return found, skipped


def _candidate(root: Path, path: Path, parts: tuple[str, ...]) -> Candidate | str:
    host, namespace, model, tag = parts
    if not all(SEGMENT.fullmatch(p) for p in parts):
        return "unexpected characters in the model name"
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            return "manifest is not a regular file"
        if info.st_size > MAX_MANIFEST_BYTES:
            return "manifest is too large"
        manifest = parse_manifest(path.read_bytes())
    except OSError as exc:
        return f"unreadable manifest: {exc.strerror}"
    except ManifestError as exc:
        return str(exc)
    layers = manifest.of_type(MODEL_LAYER)
    if not layers:
        return "no model layer (an adapter or a cloud model?)"
    layer = layers[0]
    blob = root / "blobs" / f"sha256-{layer.digest}"
    real = real_inside(blob, root)
    if real is None:
        return f"blob sha256-{layer.digest[:12]}… is missing (or a link out of the store)"
    info = os.stat(real)
    if not stat.S_ISREG(info.st_mode):
        return "blob is not a regular file"
    if info.st_size != layer.size:
        return f"blob is {info.st_size} bytes, the manifest says {layer.size}"
    if host == DEFAULT_HOST:
        owner = None if namespace == DEFAULT_NAMESPACE else namespace
    else:
        owner = f"{host}.{namespace}"
    label = f"{model}:{tag}" if owner is None else f"{owner.replace('.', '/')}/{model}:{tag}"
    return Candidate(
        source=OLLAMA_SOURCE,
        path=blob,
        real=real,
        owner=owner,
        repo=model,
        variant=tag,
        label=label,
        expected_sha256=layer.digest,
    )

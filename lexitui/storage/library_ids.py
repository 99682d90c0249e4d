"""Ids and names for models found in other tools' folders.

``{tool}:{owner}.{repo}:{variant}``: the tool prefix keeps them apart from models lexitui
installed itself (``owner.repo:variant``), so a rescan can never overwrite one of those rows.
The variant is the Ollama tag, else the quantization the file name (or header) declares, else
the file name; names that come out equal inside one repo fall back to file names, and any
remaining clash gets a numeric suffix. Every id passes ``check_model_id``.
"""

from __future__ import annotations

import re

from lexitui.domain.models import check_model_id
from lexitui.domain.storage import HF_CACHE_SOURCE, LMSTUDIO_SOURCE, OLLAMA_SOURCE

PREFIXES = {HF_CACHE_SOURCE: "hf", OLLAMA_SOURCE: "ollama", LMSTUDIO_SOURCE: "lmstudio"}
_UNSAFE = re.compile(r"[^a-z0-9._-]+")
MAX_ID = 128


def slug(text: str) -> str:
    return _UNSAFE.sub("-", text.lower()).strip("-._") or "x"


def library_id(source: str, owner: str | None, repo: str, variant: str) -> str:
    parts = [PREFIXES[source], f"{slug(owner)}.{slug(repo)}" if owner else slug(repo)]
    parts.append(slug(variant))
    return check_model_id(":".join(parts)[:MAX_ID].rstrip("-._:"))


def unique(model_id: str, taken: set[str]) -> str:
    """``model_id``, or it with ``-2``, ``-3``... when taken; the result is added to ``taken``."""
    candidate, n = model_id, 1
    while candidate in taken:
        n += 1
        suffix = f"-{n}"
        candidate = check_model_id(model_id[: MAX_ID - len(suffix)] + suffix)
    taken.add(candidate)
    return candidate


def file_stem(name: str) -> str:
    return name[: -len(".gguf")] if name.lower().endswith(".gguf") else name

"""The JSON the Hub's ``/api/models`` endpoints answer, built from a ``HubRepo``.

Shapes follow what ``huggingface_hub`` parses (``ModelInfo``, ``RepoFile``, ``RepoFolder``):
camelCase keys (``createdAt``, ``lastModified``, ``cardData``, ``trendingScore``), ``siblings``
as ``{"rfilename"}`` (plus ``size``/``blobId``/``lfs`` with ``blobs=true``), tree entries with
``type``/``oid``/``size``/``path`` and ``lfs: {oid, size, pointerSize}``.

Which keys come back follows the Hub too: a listing gives a short default set, ``full``,
``cardData`` and ``config`` add to it, and ``expand`` names exactly the keys wanted (``_id`` and
``id`` always come); ``model_info`` gives everything unless ``expand`` narrows it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

from tests.fakes.hub_records import HubFile, HubRepo

EXPANDABLE = frozenset(
    [
        "author",
        "baseModels",
        "cardData",
        "childrenModelCount",
        "config",
        "createdAt",
        "disabled",
        "downloads",
        "downloadsAllTime",
        "evalResults",
        "gated",
        "gguf",
        "inference",
        "inferenceProviderMapping",
        "lastModified",
        "library_name",
        "likes",
        "mask_token",
        "model-index",
        "pipeline_tag",
        "private",
        "resourceGroup",
        "safetensors",
        "sha",
        "siblings",
        "spaces",
        "tags",
        "transformersInfo",
        "trendingScore",
        "usedStorage",
        "widgetData",
    ]
)
LIST_DEFAULT = (
    "likes",
    "trendingScore",
    "private",
    "downloads",
    "tags",
    "pipeline_tag",
    "library_name",
    "createdAt",
)
LIST_FULL = ("author", "sha", "lastModified", "gated", "disabled", "siblings")
INFO_DEFAULT = (
    "author",
    "sha",
    "lastModified",
    "createdAt",
    "private",
    "gated",
    "disabled",
    "downloads",
    "likes",
    "library_name",
    "tags",
    "pipeline_tag",
    "cardData",
    "config",
    "siblings",
    "spaces",
    "safetensors",
    "gguf",
    "usedStorage",
    "baseModels",
)

# The Hub's sort keys, and the snake_case spellings older clients sent.
SORT_KEYS: dict[str, Callable[[HubRepo], Any]] = {
    "trendingScore": lambda r: r.trending_score,
    "downloads": lambda r: r.downloads,
    "likes": lambda r: r.likes,
    "createdAt": lambda r: r.created_at,
    "lastModified": lambda r: r.last_modified,
    "id": lambda r: r.id.lower(),
}
SORT_ALIASES = {
    "trending_score": "trendingScore",
    "created_at": "createdAt",
    "last_modified": "lastModified",
    "modelId": "id",
}


def _object_id(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:24]


def _sibling(f: HubFile, blobs: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"rfilename": f.path}
    if blobs:
        entry.update(size=f.size, blobId=f.git_oid)
        if f.lfs:
            entry["lfs"] = {"sha256": f.sha256, "size": f.size, "pointerSize": f.pointer_size}
    return entry


def _base_models(repo: HubRepo) -> dict[str, Any] | None:
    for tag in repo.tags:
        parts = tag.split(":")
        if len(parts) == 3 and parts[0] == "base_model":
            return {"relation": parts[1], "models": [{"id": parts[2]}]}
    return None


def model_fields(repo: HubRepo, *, blobs: bool = False) -> dict[str, Any]:
    """Every key this fake knows for a model; callers pick the ones the request asked for."""
    fields: dict[str, Any] = {
        "author": repo.author,
        "sha": repo.sha,
        "lastModified": repo.last_modified,
        "createdAt": repo.created_at,
        "private": False,
        "gated": repo.gated,
        "disabled": False,
        "downloads": repo.downloads,
        "downloadsAllTime": repo.downloads * 7,
        "likes": repo.likes,
        "trendingScore": repo.trending_score,
        "library_name": repo.library_name,
        "tags": list(repo.tags),
        "pipeline_tag": repo.pipeline_tag,
        "cardData": dict(repo.card_data),
        "config": repo.config,
        "siblings": [_sibling(f, blobs) for f in repo.files],
        "spaces": [],
        "safetensors": repo.safetensors,
        "gguf": repo.gguf,
        "usedStorage": sum(f.size for f in repo.files),
        "baseModels": _base_models(repo),
        "widgetData": [],
    }
    return {k: v for k, v in fields.items() if v is not None}


def pick(repo: HubRepo, keys: tuple[str, ...] | list[str], **kw: bool) -> dict[str, Any]:
    fields = model_fields(repo, **kw)
    out: dict[str, Any] = {"_id": _object_id(repo.id), "id": repo.id}
    out.update({k: fields[k] for k in keys if k in fields})
    return out


def list_keys(full: bool, card_data: bool, config: bool) -> list[str]:
    keys = list(LIST_DEFAULT)
    if full:
        keys += LIST_FULL
    if card_data:
        keys.append("cardData")
    if config:
        keys.append("config")
    return keys


def matches(repo: HubRepo, params: dict[str, list[str]]) -> bool:
    """The listing's filters: ``search`` (substring of the id), ``author``, every ``filter``
    value as a tag (or library/pipeline), ``pipeline_tag``, ``gated``, ``num_parameters``."""

    def one(name: str) -> str | None:
        values = params.get(name)
        return values[-1] if values else None

    search = one("search")
    if search and search.lower() not in repo.id.lower():
        return False
    author = one("author")
    if author and author.lower() != repo.author.lower():
        return False
    known = {t.lower() for t in repo.tags} | {
        (repo.library_name or "").lower(),
        (repo.pipeline_tag or "").lower(),
    }
    wanted = [v.lower() for raw in params.get("filter", []) for v in raw.split(",") if v]
    if any(tag not in known for tag in wanted):
        return False
    pipeline = one("pipeline_tag")
    if pipeline and pipeline != repo.pipeline_tag:
        return False
    gated = one("gated")
    if gated is not None and (gated.lower() == "true") != bool(repo.gated):
        return False
    bounds = one("num_parameters")
    return not bounds or _within(repo.parameters, bounds)


def _within(count: int | None, bounds: str) -> bool:
    """``min:6B,max:128B`` (either side optional); models with no known count are left out."""
    if count is None:
        return False
    for part in bounds.split(","):
        side, _, amount = part.partition(":")
        value = parse_count(amount)
        if (side == "min" and count < value) or (side == "max" and count > value):
            return False
    return True


def parse_count(text: str) -> float:
    scale = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}.get(text[-1:].upper(), 1.0)
    return float(text[:-1] if scale != 1.0 else text) * scale


def encode_cursor(offset: int) -> str:
    raw = json.dumps({"$offset": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    padded = cursor + "=" * (-len(cursor) % 4)
    return int(json.loads(base64.urlsafe_b64decode(padded))["$offset"])


def tree_entries(repo: HubRepo, path: str, recursive: bool, expand: bool) -> list[dict[str, Any]]:
    """Folders then files under ``path``; ``recursive`` walks every level below it."""
    prefix = f"{path}/" if path else ""

    def below(p: str) -> bool:
        rest = p[len(prefix) :]
        return p.startswith(prefix) and bool(rest) and (recursive or "/" not in rest)

    entries: list[dict[str, Any]] = [
        {
            "type": "directory",
            "oid": hashlib.sha1(f"tree:{repo.id}/{d}".encode()).hexdigest(),
            "size": 0,
            "path": d,
        }
        for d in repo.directories()
        if below(d)
    ]
    for f in sorted(repo.files, key=lambda f: f.path):
        if not below(f.path):
            continue
        entry: dict[str, Any] = {"type": "file", "oid": f.git_oid, "size": f.size, "path": f.path}
        if f.lfs:
            entry["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": f.pointer_size}
        entries.append(entry)
    if expand:
        for entry in entries:
            entry["lastCommit"] = {
                "id": repo.sha,
                "title": "Upload folder using huggingface_hub",
                "date": repo.last_modified,
            }
            if entry["type"] == "file":
                entry["securityFileStatus"] = {
                    "status": "safe",
                    "avScan": {"virusFound": False},
                    "pickleImportScan": None,
                }
    return entries

"""What ``lexitui pull`` was asked for, turned into a model and one of its variants.

``owner/repo:Q4_K_M`` picks a variant by quantization, ``owner/repo/path/to/file.gguf`` by file
(any part of a split set names the set), and a plain ``https://`` URL is a one-file download
from anywhere. A bare repo is refused with the list of its variants: a multi-gigabyte download
should be chosen, not guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from lexitui.discovery.huggingface import HuggingFaceRegistry
from lexitui.discovery.repo_files import detect_format
from lexitui.domain.discovery import ModelVariant, RemoteModel
from lexitui.domain.enums import ModelFormat, ModelRegistryType
from lexitui.domain.units import format_bytes
from lexitui.downloads.errors import DownloadError
from lexitui.downloads.http_status import shown_url
from lexitui.downloads.layout import local_file_name

_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
SHOWN_VARIANTS = 30


class PullTargetError(DownloadError):
    """The target names no single downloadable variant; the message says what would."""


@dataclass(frozen=True)
class PullTarget:
    repo: str | None = None
    quant: str | None = None
    file: str | None = None
    url: str | None = None


def parse_target(text: str) -> PullTarget:
    text = text.strip()
    if text.lower().startswith(("http://", "https://")):
        return PullTarget(url=text)
    repo, quant = text, None
    if ":" in text:
        repo, quant = text.rsplit(":", 1)
    parts = repo.split("/")
    repo_id = "/".join(parts[:2])
    if not _REPO.fullmatch(repo_id) or ".." in repo_id or (quant is not None and not quant):
        raise PullTargetError(
            f"{text!r} is not REPO:QUANT, REPO/FILE or a URL "
            "(e.g. bartowski/Qwen2.5-7B-GGUF:Q4_K_M)"
        )
    rest = "/".join(parts[2:]) or None
    if rest is not None and quant is not None:
        raise PullTargetError(f"{text!r}: give a quant or a file, not both")
    return PullTarget(repo=repo_id, quant=quant, file=rest)


async def resolve_hub_target(
    target: PullTarget, registry: HuggingFaceRegistry
) -> tuple[RemoteModel, ModelVariant]:
    assert target.repo is not None
    model = await registry.get_model(target.repo)
    if model is None:
        raise PullTargetError(f"{target.repo}: not found on the Hub")
    variants = list(model.variants)
    if not variants:
        raise PullTargetError(f"{target.repo} has no downloadable model files")
    if target.quant is not None:
        found = _by_quant(variants, target.quant)
    elif target.file is not None:
        found = [v for v in variants if target.file in (v.files or (v.filename,))]
    else:
        found = []
    if len(found) == 1:
        return model, found[0]
    asked = f":{target.quant}" if target.quant else f"/{target.file}" if target.file else ""
    what = "matches several variants" if found else "names no variant" if asked else "is a repo"
    raise PullTargetError(
        f"{target.repo}{asked} {what}; pick one of: {_listing(target.repo, found or variants)}"
    )


def url_target(url: str) -> tuple[RemoteModel, ModelVariant]:
    """A one-file model from a plain URL; its size is learnt when the download starts."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PullTargetError(f"{shown_url(url)} is not an http(s) URL")
    name = local_file_name(unquote(PurePosixPath(parts.path).name) or "model.gguf")
    fmt = detect_format(name) or ModelFormat.GGUF
    variant = ModelVariant(
        variant_id=name, filename=name, format=fmt, size_bytes=0, download_url=url, files=(name,)
    )
    model = RemoteModel(id=shown_url(url), name=name, registry=ModelRegistryType.CUSTOM)
    return model, variant


def _by_quant(variants: list[ModelVariant], quant: str) -> list[ModelVariant]:
    wanted = quant.lower()
    exact = [v for v in variants if v.variant_id.lower() == wanted]
    if exact:
        return exact
    return [
        v
        for v in variants
        if wanted
        in {
            (v.quantization_label or "").lower(),
            v.quantization.value.lower() if v.quantization else "",
        }
    ]


def _listing(repo: str, variants: list[ModelVariant]) -> str:
    shown = [
        f"{repo}:{v.variant_id} ({format_bytes(v.size_bytes)})" for v in variants[:SHOWN_VARIANTS]
    ]
    more = len(variants) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")

"""A model repository's file listing, turned into the variants a user can download.

GGUF and GGML repos hold one model per quantization: each file, or each complete split set, is
a variant. Safetensors, PyTorch, MLX, GPTQ and AWQ repos hold one model as a set of shards: the
whole set is one variant (one per format when a repo carries several copies). ONNX exports often
sit side by side in several precisions (``model.onnx``, ``model_fp16.onnx``): one variant each.

Nothing incomplete or unsafe is offered. A split set with a part missing goes to
``RepoScan.incomplete`` with the missing part numbers; a name that fails the P1/P4 checks goes
to ``RepoScan.rejected``. ``group_variants`` returns only the offerable variants; ``scan_repo``
also says what was left out and why, and lists ``mmproj`` vision projectors on their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePosixPath
from urllib.parse import quote

from lexitui.discovery.quant_names import ParsedQuant, parse_quantization, quality_score
from lexitui.discovery.repo_files import (
    UnsafeNameError,
    check_repo_path,
    detect_format,
    is_lettered_split,
    is_projector,
    split_part,
)
from lexitui.domain.discovery import ModelVariant
from lexitui.domain.enums import ModelFormat, QuantizationType

__all__ = [
    "RepoFile",
    "RepoScan",
    "SkipKind",
    "Skipped",
    "UnsafeNameError",
    "check_repo_path",
    "detect_format",
    "group_variants",
    "scan_repo",
    "split_part",
]

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(?:/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# transformers.js/optimum name the precisions of one ONNX export by a suffix.
_ONNX_PRECISION = re.compile(r"_(fp16|fp32|int8|uint8|q4|q4f16|bnb4|quantized)$", re.IGNORECASE)
_ONNX_QUANT = {"fp16": QuantizationType.F16, "fp32": QuantizationType.F32}
# Mistral repos hold their weights twice: transformers shards plus one consolidated file.
_CONSOLIDATED = re.compile(r"^consolidated(?:\.\d+)?\.safetensors$", re.IGNORECASE)
_PER_FILE = (ModelFormat.GGUF, ModelFormat.GGML)


@dataclass(frozen=True)
class RepoFile:
    """One entry of the Hub's tree listing: path, size, and the LFS sha256 when it has one."""

    path: str
    size: int
    sha256: str | None = None


class SkipKind(StrEnum):
    INCOMPLETE_SPLIT = "incomplete_split"
    UNSAFE_NAME = "unsafe_name"
    UNSUPPORTED_SPLIT = "unsupported_split"


@dataclass(frozen=True)
class Skipped:
    kind: SkipKind
    paths: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class RepoScan:
    variants: tuple[ModelVariant, ...]  # offerable, smallest first
    projectors: tuple[ModelVariant, ...]  # mmproj vision projectors, loaded beside a model
    incomplete: tuple[Skipped, ...]  # split sets with parts missing
    rejected: tuple[Skipped, ...]  # unsafe names, impossible shard numbers, lettered splits


@dataclass
class _Group:
    """Files that download together as one variant."""

    format: ModelFormat
    key: str  # the variant's preferred id, before duplicates are told apart
    base: str  # the whole-file path the id falls back to
    parsed: ParsedQuant | None = None
    whole: list[RepoFile] = field(default_factory=list)
    parts: dict[str, list[tuple[int, int, RepoFile]]] = field(default_factory=dict)

    def ordered(self) -> tuple[list[RepoFile], str | None]:
        """Every file in download order, or why the set is incomplete."""
        files = sorted(self.whole, key=lambda f: f.path)
        for base, parts in sorted(self.parts.items()):
            counts = sorted({count for _, count, _ in parts})
            if len(counts) != 1:
                return [], f"{base}: parts disagree on the part count ({counts})"
            count = counts[0]
            missing = sorted(set(range(1, count + 1)) - {index for index, _, _ in parts})
            if missing:
                shown = ", ".join(map(str, missing[:10])) + (", ..." if len(missing) > 10 else "")
                return [], f"{base}: part {shown} of {count} missing"
            files += [f for _, _, f in sorted(parts, key=lambda p: p[0])]
        return files, None


def group_variants(
    files: Sequence[RepoFile],
    *,
    repo_id: str,
    repo_tags: Sequence[str] = (),
    revision: str = "main",
    endpoint: str | None = None,
) -> list[ModelVariant]:
    """The complete, downloadable variants of a repo, smallest first (see ``scan_repo``)."""
    scan = scan_repo(
        files, repo_id=repo_id, repo_tags=repo_tags, revision=revision, endpoint=endpoint
    )
    return list(scan.variants)


def scan_repo(
    files: Sequence[RepoFile],
    *,
    repo_id: str,
    repo_tags: Sequence[str] = (),
    revision: str = "main",
    endpoint: str | None = None,
) -> RepoScan:
    """Group a repo's tree listing into variants and projectors, and say what was left out."""
    if not _REPO_ID.fullmatch(repo_id) or ".." in repo_id:
        raise ValueError(f"invalid repo id {repo_id!r}")
    rejected: list[Skipped] = []
    accepted = [f for f in files if _accepted(f, rejected)]
    models: dict[tuple[str, str], _Group] = {}
    projectors: dict[tuple[str, str], _Group] = {}
    has_shards = any(_is_transformers_safetensors(f.path) for f in accepted)
    graphs = {f.path for f in accepted if f.path.lower().endswith(".onnx")}
    for file in accepted:
        if is_lettered_split(file.path):
            why = "lettered parts (-split-a) name no part count; join them by hand"
            rejected.append(Skipped(SkipKind.UNSUPPORTED_SPLIT, (file.path,), why))
            continue
        if is_projector(file.path):
            if file.path.lower().endswith(".gguf"):
                _add(projectors, file, ModelFormat.GGUF, file.path)
            continue
        fmt = detect_format(file.path, repo_tags=repo_tags, repo_id=repo_id)
        if fmt is None or (has_shards and _CONSOLIDATED.match(_name(file.path))):
            continue
        owner = file.path  # the file whose name decides the group
        if fmt is ModelFormat.ONNX and not file.path.lower().endswith(".onnx"):
            owner = _onnx_graph(file.path)
            if owner not in graphs:
                continue  # external data without its graph loads nowhere
        _add(models, file, fmt, owner)
    url = _Urls(endpoint.rstrip("/") if endpoint else None, repo_id, revision)
    variants, incomplete = _build(models.values(), url)
    found_projectors, incomplete_projectors = _build(projectors.values(), url)
    return RepoScan(
        tuple(variants),
        tuple(found_projectors),
        (*incomplete, *incomplete_projectors),
        tuple(rejected),
    )


def _accepted(file: RepoFile, rejected: list[Skipped]) -> bool:
    try:
        split_part(file.path)  # checks the path, and the shard numbers of a shard
        if file.size < 0:
            raise UnsafeNameError(f"{file.path!r}: negative size {file.size}")
    except UnsafeNameError as error:
        rejected.append(Skipped(SkipKind.UNSAFE_NAME, (file.path,), str(error)))
        return False
    return True


def _add(
    groups: dict[tuple[str, str], _Group], file: RepoFile, fmt: ModelFormat, owner: str
) -> None:
    split = split_part(file.path) if owner == file.path else None
    base = split[0] if split else owner
    if fmt in _PER_FILE:
        parsed = parse_quantization(base)
        key = parsed.label if parsed else _stem(base)
    else:
        parsed, key = _set_key(fmt, base)
    # Per-file formats group by whole-file path; shard-set formats by the key alone.
    group = groups.setdefault(
        (fmt.value, base if fmt in _PER_FILE else key), _Group(fmt, key, base)
    )
    group.parsed = group.parsed or parsed
    if split is None:
        group.whole.append(file)
    else:
        group.parts.setdefault(split[0], []).append((split[1], split[2], file))


def _set_key(fmt: ModelFormat, base: str) -> tuple[ParsedQuant | None, str]:
    if fmt is not ModelFormat.ONNX:
        return None, fmt.value
    precision = _ONNX_PRECISION.search(PurePosixPath(base).stem)
    if precision is None:
        return None, "onnx"
    word = precision[1].lower()
    quant = _ONNX_QUANT.get(word)
    return (ParsedQuant(quant, quant.value) if quant else None), f"onnx-{word}"


def _build(groups: Iterable[_Group], url: _Urls) -> tuple[list[ModelVariant], list[Skipped]]:
    complete: list[tuple[_Group, list[RepoFile]]] = []
    incomplete: list[Skipped] = []
    for group in groups:
        files, problem = group.ordered()
        if problem is None:
            complete.append((group, files))
        else:
            paths = sorted(f.path for parts in group.parts.values() for _, _, f in parts)
            incomplete.append(Skipped(SkipKind.INCOMPLETE_SPLIT, tuple(paths), problem))
    ids = _unique_ids([g for g, _ in complete])
    variants = [
        _variant(vid, group, files, url) for vid, (group, files) in zip(ids, complete, strict=True)
    ]
    variants.sort(key=lambda v: (v.size_bytes, v.variant_id))
    return variants, incomplete


def _variant(vid: str, group: _Group, files: list[RepoFile], url: _Urls) -> ModelVariant:
    first = files[0]
    quant = group.parsed.quantization if group.parsed else None
    return ModelVariant(
        variant_id=vid,
        filename=first.path,
        format=group.format,
        size_bytes=sum(f.size for f in files),
        quantization=quant,
        quantization_label=group.parsed.label if group.parsed else None,
        # One hash per variant fits a single file; a split set's per-file hashes stay on the
        # RepoFile records the caller passed in.
        sha256=first.sha256 if len(files) == 1 else None,
        download_url=url(first.path),
        files=tuple(f.path for f in files),
        estimated_quality_score=quality_score(quant) if quant else None,
    )


def _unique_ids(groups: list[_Group]) -> list[str]:
    """The label where it is unique ("Q4_K_M"), else the file stem, else the whole path."""
    ids = [_safe_id(g.key) for g in groups]
    for fallback in (lambda g: _stem(g.base), lambda g: g.base.rsplit(".", 1)[0]):
        clashing = {i for i in ids if ids.count(i) > 1}
        ids = [
            _safe_id(fallback(g)) if i in clashing else i for i, g in zip(ids, groups, strict=True)
        ]
    seen: dict[str, int] = {}
    unique = []
    for i in ids:  # still equal only when names differ by unsafe characters alone
        seen[i] = seen.get(i, 0) + 1
        unique.append(i if seen[i] == 1 else f"{i}-{seen[i]}")
    return unique


def _safe_id(text: str) -> str:
    return _ID_UNSAFE.sub("_", text).strip("._-")[:128] or "model"


@dataclass(frozen=True)
class _Urls:
    endpoint: str | None
    repo_id: str
    revision: str

    def __call__(self, path: str) -> str | None:
        if self.endpoint is None:
            return None
        # As huggingface_hub does: a revision such as "refs/pr/1" is quoted into one segment.
        revision = quote(self.revision, safe="")
        return f"{self.endpoint}/{self.repo_id}/resolve/{revision}/{quote(path)}"


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _stem(path: str) -> str:
    name = _name(path)
    return name[: -len(".gguf")] if name.lower().endswith(".gguf") else name.rsplit(".", 1)[0]


def _is_transformers_safetensors(path: str) -> bool:
    name = _name(path)
    return name.lower().endswith(".safetensors") and not _CONSOLIDATED.match(name)


def _onnx_graph(path: str) -> str:
    """``model.onnx_data`` / ``model.onnx.data`` belong to ``model.onnx`` beside them."""
    cut = path.lower().find(".onnx")
    return path[:cut] + ".onnx"

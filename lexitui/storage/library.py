"""The shared model library: GGUF files other tools already keep on this machine, offered as
installed models without copying a byte.

``LibraryScanner.scan`` asks each tool's scanner for candidate files, joins the parts of split
models (the first part stands for the set, and every part must be there), reads each model's
GGUF header with the bounded parser (a malformed file is skipped with the parser's reason) and
gives every model a safe id. It only reads: ``library_sync`` turns a scan into registry rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lexitui.discovery.quant_names import parse_quantization
from lexitui.discovery.repo_files import UnsafeNameError, split_part
from lexitui.domain.storage import HF_CACHE_SOURCE, LMSTUDIO_SOURCE, OLLAMA_SOURCE, HeaderFacts
from lexitui.gguf.errors import GgufError
from lexitui.gguf.text import safe_text
from lexitui.storage.facts import read_facts
from lexitui.storage.library_hf import scan_hf_cache
from lexitui.storage.library_ids import file_stem, library_id, unique
from lexitui.storage.library_lmstudio import scan_lmstudio
from lexitui.storage.library_ollama import scan_ollama
from lexitui.storage.library_records import (
    Candidate,
    LibraryModel,
    LibraryRootStatus,
    LibraryScan,
    SkippedFile,
)
from lexitui.storage.library_roots import LibraryRoots

Scanner = Callable[[Path], tuple[list[Candidate], list[SkippedFile]]]
SCANNERS: dict[str, Scanner] = {
    HF_CACHE_SOURCE: scan_hf_cache,
    OLLAMA_SOURCE: scan_ollama,
    LMSTUDIO_SOURCE: scan_lmstudio,
}


@dataclass(frozen=True)
class _Model:
    first: Candidate
    parts: tuple[Candidate, ...]


class LibraryScanner:
    def __init__(self, roots: LibraryRoots) -> None:
        self.roots = roots

    def scan(self) -> LibraryScan:
        """Blocking (directory walks, header reads): run it in a thread."""
        statuses: list[LibraryRootStatus] = []
        candidates: list[Candidate] = []
        skipped: list[SkippedFile] = []
        seen_roots: set[str] = set()
        for source, root in self.roots.all():
            exists = root.is_dir()
            statuses.append(LibraryRootStatus(source, str(root), exists))
            real = os.path.realpath(root)
            if not exists or real in seen_roots:  # one folder under two names: scanned once
                continue
            seen_roots.add(real)
            found, passed = SCANNERS[source](root)
            candidates += found
            skipped += passed
        models = _join_splits(candidates, skipped)
        return LibraryScan(tuple(statuses), tuple(_describe(models, skipped)), tuple(skipped))


def _join_splits(candidates: list[Candidate], skipped: list[SkippedFile]) -> list[_Model]:
    singles: list[_Model] = []
    sets: dict[tuple[str, Path, str], dict[int, Candidate]] = {}
    counts: dict[tuple[str, Path, str], int] = {}
    for c in candidates:
        try:
            split = split_part(c.path.name)
        except UnsafeNameError as exc:
            skipped.append(SkippedFile(c.source, str(c.path), str(exc)))
            continue
        if split is None:
            singles.append(_Model(c, (c,)))
            continue
        base, index, count = split
        key = (c.source, c.path.parent, base)
        sets.setdefault(key, {})[index] = c
        counts[key] = count
    for key, parts in sets.items():
        count = counts[key]
        missing = [i for i in range(1, count + 1) if i not in parts]
        if missing:
            first = parts[min(parts)]
            skipped.append(
                SkippedFile(
                    first.source,
                    str(first.path),
                    f"split model is missing part {missing[0]} of {count}",
                )
            )
            continue
        ordered = tuple(parts[i] for i in range(1, count + 1))
        singles.append(_Model(ordered[0], ordered))
    return sorted(singles, key=lambda m: (m.first.source, m.first.label))


def _describe(models: list[_Model], skipped: list[SkippedFile]) -> list[LibraryModel]:
    checked: list[tuple[_Model, HeaderFacts, int]] = []
    for model in models:
        try:
            facts = read_facts(model.first.real)
            size = sum(os.stat(p.real).st_size for p in model.parts)
        except GgufError as exc:
            # The parser names the blob it read; the snapshot path is already in the record.
            reason = str(exc).removeprefix(safe_text(str(model.first.real)) + ": ")
            skipped.append(SkippedFile(model.first.source, str(model.first.path), reason))
            continue
        except OSError as exc:
            reason = f"unreadable: {exc.strerror}"
            skipped.append(SkippedFile(model.first.source, str(model.first.path), reason))
            continue
        checked.append((model, facts, size))
    variants = _variants(checked)
    taken: set[str] = set()
    out = []
    for (model, facts, size), variant in zip(checked, variants, strict=True):
        c = model.first
        model_id = unique(library_id(c.source, c.owner, c.repo, variant), taken)
        out.append(
            LibraryModel(
                source=c.source,
                model_id=model_id,
                name=_name(c, variant),
                path=str(c.path),
                size_bytes=size,
                parts=len(model.parts),
                label=safe_text(c.label),
                facts=facts,
            )
        )
    return out


def _variants(checked: list[tuple[_Model, HeaderFacts, int]]) -> list[str]:
    """Tag, else quant label, else file stem; a label shared inside one repo -> file stems."""
    first = [_variant(m.first, facts) for m, facts, _ in checked]
    repo_of = [(m.first.source, m.first.owner, m.first.repo) for m, _, _ in checked]
    seen: dict[tuple[object, ...], int] = {}
    for repo, variant in zip(repo_of, first, strict=True):
        seen[(*repo, variant)] = seen.get((*repo, variant), 0) + 1
    return [
        variant if seen[(*repo, variant)] == 1 or model.first.variant else _stem(model.first)
        for (model, _, _), repo, variant in zip(checked, repo_of, first, strict=True)
    ]


def _variant(c: Candidate, facts: HeaderFacts) -> str:
    if c.variant:
        return c.variant
    parsed = parse_quantization(c.path.name)
    if parsed is not None:
        return parsed.label
    return facts.quantization or _stem(c)


def _stem(c: Candidate) -> str:
    split = split_part(c.path.name)
    return file_stem(split[0] if split else c.path.name)


def _name(c: Candidate, variant: str) -> str:
    if c.variant:  # Ollama: the name the user pulls and runs it by
        return safe_text(c.label, 120)
    repo = f"{c.owner}/{c.repo}" if c.owner else c.repo
    return safe_text(f"{repo} ({variant})", 120)

"""What a scan of the shared model library found, and why it skipped what it skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lexitui.domain.hardware import JsonRecord
from lexitui.domain.storage import HeaderFacts, ReconcileReport


@dataclass(frozen=True)
class Candidate:
    """One GGUF file a scanner found; not validated yet."""

    source: str  # hf-cache, ollama, lmstudio
    path: Path  # what the engine is given: a snapshot link in the HF cache, else the file
    real: Path  # the file itself, checked to be inside the scanned folder
    owner: str | None  # "bartowski", an Ollama namespace, an LM Studio publisher
    repo: str  # "Llama-3.2-1B-Instruct-GGUF", an Ollama model name
    variant: str | None  # an Ollama tag; None: derived from the file name
    label: str  # how the user knows it: "org/repo@rev/file", "llama3.2:latest"
    expected_sha256: str | None = None  # when the store names files by content


@dataclass(frozen=True)
class SkippedFile(JsonRecord):
    source: str
    path: str
    reason: str


@dataclass(frozen=True)
class LibraryModel(JsonRecord):
    source: str
    model_id: str
    name: str
    path: str
    size_bytes: int
    parts: int
    label: str
    facts: HeaderFacts = field(default_factory=HeaderFacts)


@dataclass(frozen=True)
class LibraryRootStatus(JsonRecord):
    source: str
    path: str
    exists: bool


@dataclass(frozen=True)
class LibraryScan(JsonRecord):
    roots: tuple[LibraryRootStatus, ...] = ()
    models: tuple[LibraryModel, ...] = ()
    skipped: tuple[SkippedFile, ...] = ()


@dataclass(frozen=True)
class LibrarySync(JsonRecord):
    scan: LibraryScan = field(default_factory=LibraryScan)
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    skipped: tuple[SkippedFile, ...] = ()  # found, but not registered (forgotten, id taken)
    reconciled: ReconcileReport = field(default_factory=ReconcileReport)  # lexitui's own store

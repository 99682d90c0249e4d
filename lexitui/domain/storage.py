"""Storage records: the roadmap's ``StorageInfo``, ``InstalledModel`` (with usage and header
facts), ``ModelImportOptions``, ``ModelCleanupSuggestion`` and the results of storage actions.

``StoredModel`` wraps the registry's ``InstalledModel`` instead of repeating its fields: the
registry row is what every area shares, the rest is what storage management adds to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from lexitui.domain.enums import CleanupReason
from lexitui.domain.hardware import JsonRecord
from lexitui.domain.models import InstalledModel

# Sources of models that live in another tool's folder: lexitui lists them, never deletes them.
HF_CACHE_SOURCE = "hf-cache"
OLLAMA_SOURCE = "ollama"
LMSTUDIO_SOURCE = "lmstudio"
LIBRARY_SOURCES = (HF_CACHE_SOURCE, OLLAMA_SOURCE, LMSTUDIO_SOURCE)


@dataclass(frozen=True)
class StorageInfo(JsonRecord):
    storage_path: str
    total_disk_bytes: int
    free_disk_bytes: int
    used_by_models_bytes: int  # files in lexitui's own store (shared blobs counted once)
    used_by_downloads_bytes: int  # partial downloads, as allocated on disk
    used_by_temp_bytes: int
    installed_model_count: int = 0
    pending_download_count: int = 0
    is_low_on_space: bool = False
    recommended_free_bytes: int = 0
    # Beyond the roadmap: models listed from other tools' folders. Their bytes are not lexitui's
    # to free, so they are counted apart from ``used_by_models_bytes``.
    shared_library_bytes: int = 0
    shared_model_count: int = 0
    # The file system under the store: "nfs4 server:/export (shared)", "ext4 /dev/sda2 (this
    # host only)"; None where it cannot be told.
    store_mount: str | None = None
    store_is_shared: bool = False


@dataclass(frozen=True)
class HeaderFacts(JsonRecord):
    """What a model file's GGUF header says, as far as storage needs it."""

    quantization: str | None = None  # llama.cpp's file type name: "Q4_K_M", "F16"
    architecture: str | None = None
    parameter_count: int | None = None
    context_length: int | None = None
    base_model: str | None = None  # "smollm2 135M instruct": groups quants of one model


@dataclass(frozen=True)
class StoredModel(JsonRecord):
    """An installed model with its usage and header facts (the roadmap's ``InstalledModel``)."""

    model: InstalledModel
    facts: HeaderFacts = HeaderFacts()
    use_count: int = 0
    total_usage_seconds: float = 0.0
    facts_current: bool = False  # the facts were read from the file as it is now

    @property
    def id(self) -> str:
        return self.model.id

    @property
    def size_bytes(self) -> int:
        return self.model.size_bytes

    @property
    def shared(self) -> bool:
        """True when the file is not lexitui's: deleting only forgets it."""
        return self.model.registered_by_path

    @property
    def last_used_at(self) -> datetime | None:
        return self.model.last_used_at


class ImportMode(StrEnum):
    COPY = "copy"
    MOVE = "move"
    HARDLINK = "hardlink"
    SYMLINK = "symlink"  # the file stays where it is; lexitui links to it and never deletes it


@dataclass(frozen=True)
class ModelImportOptions(JsonRecord):
    custom_name: str | None = None
    custom_id: str | None = None
    mode: ImportMode = ImportMode.COPY  # the roadmap's CopyFile flag, with links added
    verify_integrity: bool = True


@dataclass(frozen=True)
class CleanupSuggestion(JsonRecord):
    """The roadmap's ``ModelCleanupSuggestion``; ``freeable_bytes`` is what deleting frees."""

    model: StoredModel
    reason: CleanupReason
    explanation: str
    priority_score: float  # higher = delete first
    freeable_bytes: int


@dataclass(frozen=True)
class DeleteResult(JsonRecord):
    model_id: str
    freed_bytes: int
    forgot_only: bool  # a shared-library model: the row went, the file stayed
    removed_files: tuple[str, ...] = ()


@dataclass(frozen=True)
class VerifyReport(JsonRecord):
    model_id: str
    ok: bool
    header_ok: bool
    expected_sha256: str | None = None
    computed_sha256: str | None = None  # None when not hashed
    error: str | None = None
    files: int = 1


class MovePhase(StrEnum):
    COPYING = "copying"
    SWITCHING = "switching"
    REMOVING_OLD = "removing_old"
    DONE = "done"


@dataclass(frozen=True)
class StorageMoveProgress(JsonRecord):
    phase: MovePhase
    bytes_done: int
    bytes_total: int
    current: str = ""


@dataclass(frozen=True)
class ReconcileReport(JsonRecord):
    """What start-up reconciliation (checklist S5) removed, and what it left alone and why."""

    removed_rows: tuple[str, ...] = ()
    removed_blobs: tuple[str, ...] = ()
    freed_bytes: int = 0
    young_orphans: tuple[str, ...] = ()  # blobs without a manifest, maybe mid-install: kept

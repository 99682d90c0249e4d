"""The roadmap's download-side records that the domain package does not hold yet:
``DownloadProgressEvent``, ``IntegrityResult``, ``GgufValidation``/``GgufMetadata`` and what a
cleanup did."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from lexitui.domain.enums import DownloadStatus, QuantizationType
from lexitui.domain.hardware import JsonRecord


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DownloadProgressEvent(JsonRecord):
    download_id: str
    status: DownloadStatus
    downloaded_bytes: int = 0
    total_bytes: int = 0
    bytes_per_second: int = 0
    eta_seconds: float | None = None  # the roadmap's EstimatedTimeRemaining
    message: str | None = None
    timestamp: datetime = field(default_factory=utc_now)


@dataclass(frozen=True)
class IntegrityResult(JsonRecord):
    is_valid: bool
    computed_hash: str | None = None
    expected_hash: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class GgufMetadata(JsonRecord):
    architecture: str | None = None
    parameter_count: int | None = None
    context_length: int | None = None
    embedding_length: int | None = None
    head_count: int | None = None
    layer_count: int | None = None
    quantization: QuantizationType | None = None
    split_count: int | None = None  # beyond the roadmap: a gguf-split part says how many


@dataclass(frozen=True)
class GgufValidation(JsonRecord):
    is_valid: bool
    error: str | None = None
    metadata: GgufMetadata | None = None


@dataclass(frozen=True)
class CleanupResult(JsonRecord):
    deleted_files: tuple[str, ...] = ()
    freed_bytes: int = 0
    in_use: tuple[str, ...] = ()  # partials another download (maybe another process) holds

"""Download records: the roadmap's ``DownloadOptions`` and ``ModelDownload``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lexitui.domain.discovery import ModelVariant, RemoteModel
from lexitui.domain.enums import DownloadPriority, DownloadStatus
from lexitui.domain.hardware import JsonRecord


@dataclass(frozen=True)
class DownloadOptions(JsonRecord):
    max_concurrent_connections: int = 4
    chunk_size_bytes: int = 10 * 1024 * 1024
    verify_integrity: bool = True
    auto_retry_on_failure: bool = True
    max_retries: int = 3
    priority: DownloadPriority = DownloadPriority.NORMAL
    custom_storage_path: str | None = None


@dataclass(frozen=True)
class ModelDownload(JsonRecord):
    id: str
    model: RemoteModel
    variant: ModelVariant
    status: DownloadStatus
    total_bytes: int
    queued_at: datetime
    options: DownloadOptions = DownloadOptions()
    downloaded_bytes: int = 0
    bytes_per_second: int = 0
    started_at: datetime | None = None
    completed_at: datetime | None = None
    paused_at: datetime | None = None
    error: str | None = None
    retry_count: int = 0
    destination_path: str | None = None

    @property
    def progress_percent(self) -> float:
        return self.downloaded_bytes / self.total_bytes * 100 if self.total_bytes > 0 else 0.0

"""The editions' rules for downloading: which tier may download, and how many downloaded models
(and how many bytes of them) a tier keeps.

What counts is what the user downloaded: installed models that came from a download (their
``source`` is ``hf:`` or ``url:``, not the bundled starter, an import or the shared library),
plus downloads queued, running or paused (admitted already, so they hold their place), plus the
new one. Storage is those models' bytes plus the new download's declared size, so a download that
would pass the limit is refused before any byte is fetched. The check runs inside the queue's
write transaction (``DownloadQueue.enqueue``): two processes cannot both take the last place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

from lexitui.domain.downloads import ModelDownload
from lexitui.domain.enums import DownloadStatus
from lexitui.domain.models import InstalledModel, InvalidModelId
from lexitui.downloads.errors import DownloadError
from lexitui.downloads.install import install_id
from lexitui.editions.entitlements import OPEN, Entitlements
from lexitui.editions.refusals import LimitReached
from lexitui.editions.tiers import GB, Action
from lexitui.store.download_queue import ACTIVE, Admit, DownloadQueue
from lexitui.store.installed_models import ModelRegistry

DOWNLOADED_SOURCES = ("hf:", "url:")  # what ``downloads.install`` writes in the row's source


@dataclass(frozen=True)
class DownloadedModels:
    """The downloaded models kept (by model id) and their bytes."""

    sizes: dict[str, int]

    @property
    def names(self) -> list[str]:
        return sorted(self.sizes)

    def without(self, model_id: str) -> DownloadedModels:
        return DownloadedModels({k: v for k, v in self.sizes.items() if k != model_id})


def _model_id(download: ModelDownload) -> str:
    try:
        return install_id(download)
    except InvalidModelId:  # a name no model could be installed under: the download stands alone
        return download.id


def downloaded_models(
    installed: Sequence[InstalledModel], downloads: Sequence[ModelDownload]
) -> DownloadedModels:
    sizes = {m.id: m.size_bytes for m in installed if m.source.startswith(DOWNLOADED_SOURCES)}
    for download in downloads:
        model_id = _model_id(download)
        finished = download.status is DownloadStatus.COMPLETED and model_id in sizes
        if finished or download.status in ACTIVE:
            # A split model's row holds its first file's size; its download knows the whole.
            size = download.total_bytes or download.variant.size_bytes
            sizes[model_id] = max(sizes.get(model_id, 0), size)
    return DownloadedModels(sizes)


def size_text(count: int) -> str:
    """What is used, in the limit's decimal units to one place: ``48.2 GB``, ``4.1 MB``."""
    for unit, name in ((GB, "GB"), (1000**2, "MB"), (1000, "kB")):
        if count >= unit:
            return f"{count / unit:.1f} {name}"
    return f"{count} B"


def check_room(
    entitlements: Entitlements,
    download: ModelDownload,
    installed: Sequence[InstalledModel],
    downloads: Sequence[ModelDownload],
) -> None:
    """Raise ``LimitReached`` when ``download`` would pass the downloaded models or storage
    limit; downloading a model kept already (again, or another copy of it) replaces it."""
    model_id = _model_id(download)
    kept = downloaded_models(installed, [d for d in downloads if d.id != download.id])
    others = kept.without(model_id)
    names = others.names
    shown = f"{len(names)} kept: {', '.join(names)}" if names else "none kept"
    entitlements.require_room("downloaded_models", len(names), usage=shown)
    used = sum(others.sizes.values())
    size = max(download.total_bytes, download.variant.size_bytes)
    entitlements.require_room(
        "storage_bytes",
        used,
        adding=size,
        usage=f"{size_text(used)} used, this download {size_text(size)}",
    )


class StorageLimitError(DownloadError):
    """A download whose size was learnt only from its server would pass the storage limit."""


class DownloadQuota:
    """What ``DownloadManager`` asks before it queues (or retries) a download."""

    def __init__(self, entitlements: Callable[[], Entitlements] = lambda: OPEN) -> None:
        self._entitlements = entitlements

    def may_download(self) -> bool:
        return self._entitlements().allows(Action.DOWNLOAD)

    def admission(self) -> Admit | None:
        """Raise ``NotEntitled`` unless this user may download; then the room check the queue
        runs in its transaction, or None when nothing is counted (Teams and above, unmanaged)."""
        entitlements = self._entitlements()
        entitlements.require(Action.DOWNLOAD)
        counted = ("downloaded_models", "storage_bytes")
        if all(entitlements.limit(name) is None for name in counted):
            return None
        return partial(check_room, entitlements)

    async def readmit(
        self, download: ModelDownload, registry: ModelRegistry, queue: DownloadQueue
    ) -> None:
        """A failed or cancelled download no longer holds its place: retrying it is checked
        like a new one."""
        admit = self.admission()
        if admit is not None:
            admit(download, await registry.list(), await queue.list())

    async def check_size(
        self, download: ModelDownload, registry: ModelRegistry, queue: DownloadQueue, size: int
    ) -> None:
        """A plain URL is queued without a size; once its server says one, before any byte is
        fetched, it is checked like any other download (the download fails with the limit)."""
        admit = self.admission()
        if admit is None:
            return
        try:
            admit(replace(download, total_bytes=size), await registry.list(), await queue.list())
        except LimitReached as exc:
            raise StorageLimitError(str(exc)) from exc

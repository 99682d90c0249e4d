"""The roadmap's ``IModelDownloadManager``: start, pause, resume, cancel, retry, list, history,
and a stream of progress.

Downloads are rows in the store (``DownloadQueue``), so a restart finds what was queued or
running and ``start()`` picks it up again. At most ``max_concurrent_downloads`` run at once; the
others wait their turn as QUEUED, and a free slot goes to the waiting download of highest
priority (High, then Normal, then Low; first come first served within one). A failure that a
retry can fix (a dropped connection, a bad copy) is retried automatically with a doubling pause,
up to the download's ``max_retries``.
Pausing cancels the run: the transfer checkpoints on its way out, so resuming refetches nothing
that was on disk. Status changes go to the event bus (Started/Completed/Installed); progress goes
to ``progress`` and, as ``ModelDownloadProgress``, to the bus, both at a bounded rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
from reactivex import Observable

from lexitui.domain.discovery import ModelVariant, RemoteModel
from lexitui.domain.downloads import DownloadOptions, ModelDownload
from lexitui.domain.enums import DownloadPriority, DownloadStatus
from lexitui.domain.models import InstalledModel
from lexitui.downloads.cleanup import cleanup_partials
from lexitui.downloads.errors import DownloadError, DownloadNotFoundError, DownloadStateError
from lexitui.downloads.http_client import build_client
from lexitui.downloads.job import DownloadJob, JobContext
from lexitui.downloads.layout import StoreLayout
from lexitui.downloads.limiter import RateLimiter
from lexitui.downloads.quota import DownloadQuota
from lexitui.downloads.records import CleanupResult, DownloadProgressEvent, utc_now
from lexitui.downloads.reporter import ProgressReporter
from lexitui.downloads.resolve import Auth, Credentials
from lexitui.downloads.settings import DEFAULT_SETTINGS, ManagerSettings
from lexitui.downloads.slots import SlotGate
from lexitui.downloads.transfer import TransferSettings
from lexitui.downloads.verify import IntegrityVerifier
from lexitui.events import (
    EventBus,
    ModelDownloadCompleted,
    ModelDownloadStarted,
)
from lexitui.store import StoreError
from lexitui.store.download_queue import ACTIVE, DownloadQueue
from lexitui.store.installed_models import ModelRegistry

log = logging.getLogger(__name__)
RUNNING = (DownloadStatus.DOWNLOADING, DownloadStatus.VERIFYING, DownloadStatus.INSTALLING)
FINISHED = (DownloadStatus.COMPLETED, DownloadStatus.FAILED, DownloadStatus.CANCELLED)


class DownloadManager:
    def __init__(
        self,
        layout: StoreLayout,
        queue: DownloadQueue,
        registry: ModelRegistry,
        bus: EventBus,
        *,
        hub_endpoint: Callable[[], str],
        hub_token: Callable[[], str | None] = lambda: None,
        settings: ManagerSettings = DEFAULT_SETTINGS,
        registry_auth: tuple[Auth, ...] = (),
        quota: DownloadQuota | None = None,
    ) -> None:
        self.layout = layout
        self.quota = quota or DownloadQuota()  # the editions' rules; open unless given
        self.settings = settings
        self.verifier = IntegrityVerifier()
        self._queue = queue
        self._registry = registry
        self._bus = bus
        self._auth = Credentials(hub_endpoint, hub_token, registry_auth)
        self._reporter = ProgressReporter(bus, settings.progress_interval_s)
        self._slots = SlotGate(settings.max_concurrent_downloads)
        # What each scheduled download waits with; set_priority changes it even before the
        # download's task has reached the gate.
        self._priorities: dict[str, DownloadPriority] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._jobs: dict[str, DownloadJob] = {}
        self._stop_as: dict[str, DownloadStatus] = {}
        self._client: httpx.AsyncClient | None = None
        rate = settings.rate_limit_bytes_per_s
        self._limiter = RateLimiter(rate) if rate else None

    @property
    def progress(self) -> Observable[DownloadProgressEvent]:
        return self._reporter.stream

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, *, resume_pending: bool = True) -> None:
        """Pick up downloads a previous run left queued or running (not paused ones), unless
        this user's edition may not download now: they wait, queued, for one that may."""
        if not resume_pending or not self.quota.may_download():
            return
        for download in await self._queue.list():
            if download.status is DownloadStatus.QUEUED or download.status in RUNNING:
                self._schedule(download)

    async def close(self) -> None:
        """Stop running downloads so the next start resumes them; close connections."""
        for download_id in list(self._tasks):
            await self._stop(download_id, DownloadStatus.QUEUED)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- the roadmap's operations ---------------------------------------------------------------

    async def start_download(
        self,
        model: RemoteModel,
        variant: ModelVariant,
        options: DownloadOptions | None = None,
        *,
        require_size: bool = True,
    ) -> ModelDownload:
        """Queue and run a download; asking again for one in progress returns that one (and a
        paused one resumes). The user's edition may refuse it (``EditionRefusal``)."""
        admit = self.quota.admission()
        download = await self._queue.enqueue(
            model, variant, options, require_size=require_size, admit=admit
        )
        if download.status is DownloadStatus.PAUSED:
            download = await self._save(download, status=DownloadStatus.QUEUED, paused_at=None)
        self._schedule(download)
        return download

    async def pause_download(self, download_id: str) -> ModelDownload:
        download = await self._get(download_id)
        if download.status in FINISHED:
            raise DownloadStateError(f"download {download_id} is {download.status.value}")
        if download_id in self._tasks:
            await self._stop(download_id, DownloadStatus.PAUSED)
            return await self._get(download_id)
        return await self._save(download, status=DownloadStatus.PAUSED, paused_at=utc_now())

    async def resume_download(self, download_id: str) -> ModelDownload:
        download = await self._get(download_id)
        if download.status is not DownloadStatus.PAUSED:
            raise DownloadStateError(
                f"download {download_id} is {download.status.value}, not paused"
            )
        download = await self._save(download, status=DownloadStatus.QUEUED, paused_at=None)
        self._schedule(download)
        return download

    async def cancel_download(self, download_id: str) -> ModelDownload:
        download = await self._get(download_id)
        if download.status is DownloadStatus.COMPLETED:
            raise DownloadStateError(f"download {download_id} is already completed")
        if download_id in self._tasks:
            await self._stop(download_id, DownloadStatus.CANCELLED)
        else:
            await self._save(download, status=DownloadStatus.CANCELLED, completed_at=utc_now())
        await asyncio.to_thread(cleanup_partials, self.layout, (), (download_id,))
        return await self._get(download_id)

    async def retry_download(self, download_id: str) -> ModelDownload:
        download = await self._get(download_id)
        if download.status not in (DownloadStatus.FAILED, DownloadStatus.CANCELLED):
            raise DownloadStateError(f"download {download_id} is {download.status.value}")
        await self.quota.readmit(download, self._registry, self._queue)
        download = await self._save(
            download, status=DownloadStatus.QUEUED, error=None, completed_at=None
        )
        self._schedule(download)
        return download

    async def set_priority(self, download_id: str, priority: DownloadPriority) -> ModelDownload:
        """Change a download's priority; a waiting one takes its new place in the line at once
        (a running one keeps running: priority decides who gets the next free slot)."""
        download = await self._get(download_id)
        if download.status in FINISHED:
            raise DownloadStateError(f"download {download_id} is {download.status.value}")
        download = await self._save(download, options=replace(download.options, priority=priority))
        if download_id in self._priorities:
            self._priorities[download_id] = priority
        self._slots.reprioritise(download_id, priority)
        return download

    async def get_downloads(self) -> list[ModelDownload]:
        return [d for d in await self._queue.list() if d.status in ACTIVE]

    async def get_history(self, limit: int = 50) -> list[ModelDownload]:
        done = [d for d in await self._queue.list() if d.status in FINISHED]
        done.sort(key=lambda d: d.completed_at or d.queued_at, reverse=True)
        return done[:limit]

    async def wait(self, download_id: str) -> ModelDownload:
        """Until the download stops running (completed, failed, cancelled or paused)."""
        task = self._tasks.get(download_id)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)
        return await self._get(download_id)

    def job(self, download_id: str) -> DownloadJob | None:
        return self._jobs.get(download_id)

    async def cleanup(self, *, include_resumable: bool = False) -> CleanupResult:
        """Delete partials of failed/cancelled/unknown downloads (and, with
        ``include_resumable``, paused and queued ones too); never one that is being written."""
        keep = set(self._tasks)
        if not include_resumable:
            keep |= {d.id for d in await self._queue.list() if d.status in ACTIVE}
        return await asyncio.to_thread(cleanup_partials, self.layout, keep)

    # -- running --------------------------------------------------------------------------------

    def _schedule(self, download: ModelDownload) -> None:
        running = self._tasks.get(download.id)
        if running is not None and not running.done():
            return
        task = asyncio.get_running_loop().create_task(self._run(download))
        self._tasks[download.id] = task
        self._priorities[download.id] = download.options.priority
        task.add_done_callback(lambda _: self._forget(download.id, task))

    def _forget(self, download_id: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(download_id) is task:
            del self._tasks[download_id]
            self._priorities.pop(download_id, None)

    async def _stop(self, download_id: str, status: DownloadStatus) -> None:
        task = self._tasks.get(download_id)
        if task is None:
            return
        self._stop_as[download_id] = status
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self, download: ModelDownload) -> None:
        download_id = download.id
        try:
            priority = self._priorities.get(download_id, download.options.priority)
            await self._slots.acquire(download_id, priority)
            try:
                # The row again: while this waited, set_priority may have changed its options.
                download = await self._save(
                    await self._get(download_id),
                    status=DownloadStatus.DOWNLOADING,
                    started_at=utc_now(),
                    error=None,
                )
                self._bus.publish(
                    ModelDownloadStarted(download_id, download.model.id, download.variant.filename)
                )
                installed = await self._attempts(download)
            finally:
                self._slots.release()
            download = await self._get(download_id)
            job = self._jobs.get(download_id)
            total = job.total_bytes if job is not None else download.total_bytes
            await self._save(
                download,
                status=DownloadStatus.COMPLETED,
                completed_at=utc_now(),
                total_bytes=total,
                downloaded_bytes=total,
                bytes_per_second=0,
                destination_path=installed.path,
            )
            self._bus.publish(ModelDownloadCompleted(download_id, download.model.id, True))
        except asyncio.CancelledError:
            status = self._stop_as.pop(download_id, None)
            if status is None:
                raise
            await self._stopped(download_id, status)
        except DownloadError as exc:
            await self._failed(download_id, str(exc), exc)
        except Exception as exc:  # a bug must end as a failed download, not a silent task
            log.exception("download %s crashed", download_id)
            await self._failed(download_id, f"internal error: {exc!r}", exc)

    async def _attempts(self, download: ModelDownload) -> InstalledModel:
        attempt = 0
        while True:
            job = DownloadJob(download, self._context(download), self._status_callback(download))
            self._jobs[download.id] = job
            save = functools.partial(self._save_bytes, download.id)
            ticker = asyncio.get_running_loop().create_task(
                self._reporter.tick(download.id, job, save)
            )
            try:
                return await job.run()
            except DownloadError as exc:
                options = download.options
                if (
                    not exc.retryable
                    or not options.auto_retry_on_failure
                    or attempt >= options.max_retries
                ):
                    raise
                attempt += 1
                delay = self.settings.retry_backoff_s * 2 ** (attempt - 1)
                download = await self._save(
                    await self._get(download.id), retry_count=attempt, error=str(exc)
                )
                self._reporter.emit(download.id, job, f"retry {attempt} in {delay:.0f} s: {exc}")
                await asyncio.sleep(delay)
            finally:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker

    async def _stopped(self, download_id: str, status: DownloadStatus) -> None:
        download = await self._get(download_id)
        job = self._jobs.get(download_id)
        done = job.downloaded_bytes() if job is not None else download.downloaded_bytes
        changes: dict[str, Any] = {"downloaded_bytes": done, "bytes_per_second": 0}
        if status is DownloadStatus.PAUSED:
            changes["paused_at"] = utc_now()
        if status is DownloadStatus.CANCELLED:
            changes["completed_at"] = utc_now()
        download = await self._save(download, status=status, **changes)
        if status is DownloadStatus.CANCELLED:
            self._bus.publish(
                ModelDownloadCompleted(download_id, download.model.id, False, "cancelled")
            )

    async def _failed(self, download_id: str, error: str, cause: Exception) -> None:
        try:
            download = await self._get(download_id)
            download = await self._save(
                download,
                status=DownloadStatus.FAILED,
                error=error,
                completed_at=utc_now(),
                bytes_per_second=0,
            )
        except StoreError as exc:
            # The store often shares the disk that just filled up: the download's own error is
            # what the user must see (whoever waits for the download gets it), not the store's.
            log.warning("could not record that download %s failed: %s", download_id, exc)
            self._queue.note_said(exc)
            raise cause from exc
        self._bus.publish(ModelDownloadCompleted(download_id, download.model.id, False, error))

    def _status_callback(
        self, download: ModelDownload
    ) -> Callable[[DownloadStatus, str | None], None]:
        def changed(status: DownloadStatus, message: str | None) -> None:
            job = self._jobs.get(download.id)
            if job is not None:
                self._reporter.emit(download.id, job, message, status=status)

        return changed

    def _context(self, download: ModelDownload) -> JobContext:
        transfer = TransferSettings.for_download(self.settings, download.options)
        sized = functools.partial(self.quota.check_size, download, self._registry, self._queue)
        return JobContext(
            layout=self.layout,
            client=self._http(),
            registry=self._registry,
            bus=self._bus,
            verifier=self.verifier,
            auth=self._auth,
            limiter=self._limiter,
            settings=transfer,
            admit_size=sized,
        )

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            settings = self.settings
            self._client = build_client(settings.connect_timeout_s, settings.read_timeout_s)
        return self._client

    # -- rows -----------------------------------------------------------------------------------

    async def _get(self, download_id: str) -> ModelDownload:
        download = await self._queue.get(download_id)
        if download is None:
            raise DownloadNotFoundError(f"no download {download_id!r}")
        return download

    async def _save(self, download: ModelDownload, **changes: Any) -> ModelDownload:
        updated = replace(download, **changes)
        await self._queue.save(updated)
        if updated.status is not download.status:
            self._reporter.status_changed(updated)
        return updated

    async def _save_bytes(self, download_id: str, done: int, speed: int) -> None:
        current = await self._get(download_id)
        await self._save(current, downloaded_bytes=done, bytes_per_second=speed)

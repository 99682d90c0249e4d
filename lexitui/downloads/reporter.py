"""Progress of running downloads, out to the manager's stream and the event bus, rate-bounded.

A ticker per running download polls the bytes on disk every ``interval_s`` and emits only when
they moved, so however fast bytes arrive a download yields at most 1/interval events a second
(4 by default). Status changes are emitted as they happen and always carry a message; plain
ticks never do, so a screen can tell them apart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from reactivex import Observable
from reactivex.subject import Subject

from lexitui.domain.downloads import ModelDownload
from lexitui.domain.enums import DownloadStatus
from lexitui.downloads.job import DownloadJob
from lexitui.downloads.progress import SpeedMeter, eta_seconds
from lexitui.downloads.records import DownloadProgressEvent
from lexitui.events import EventBus, ModelDownloadProgress
from lexitui.store import StoreError

log = logging.getLogger(__name__)

ROW_SAVE_S = 5.0  # how often a running download's byte count is written to its row
SaveBytes = Callable[[int, int], Awaitable[None]]  # (downloaded_bytes, bytes_per_second)


class ProgressReporter:
    def __init__(self, bus: EventBus, interval_s: float) -> None:
        self._bus = bus
        self._interval = interval_s
        self._subject: Subject[DownloadProgressEvent] = Subject()

    @property
    def stream(self) -> Observable[DownloadProgressEvent]:
        return self._subject

    def status_changed(self, download: ModelDownload) -> None:
        self._subject.on_next(
            DownloadProgressEvent(
                download.id,
                download.status,
                download.downloaded_bytes,
                download.total_bytes,
                message=download.error or download.status.value,
            )
        )

    def emit(
        self,
        download_id: str,
        job: DownloadJob,
        message: str | None,
        speed: int = 0,
        status: DownloadStatus = DownloadStatus.DOWNLOADING,
    ) -> None:
        done, total = job.downloaded_bytes(), job.total_bytes
        eta = eta_seconds(done, total, speed)
        self._subject.on_next(
            DownloadProgressEvent(download_id, status, done, total, speed, eta, message)
        )
        self._bus.publish(ModelDownloadProgress(download_id, done, total or None))

    async def tick(self, download_id: str, job: DownloadJob, save: SaveBytes) -> None:
        """Until cancelled: one event per interval when bytes moved; the row every few s."""
        meter = SpeedMeter()
        last = -1
        clock = asyncio.get_running_loop().time
        saved_at = clock()
        while True:
            await asyncio.sleep(self._interval)
            done = job.downloaded_bytes()
            speed = meter.sample(done)
            if done == last:
                continue
            last = done
            self.emit(download_id, job, None, speed)
            if clock() - saved_at >= ROW_SAVE_S:
                saved_at = clock()
                try:
                    await save(done, speed)
                except StoreError as exc:  # the bytes are on disk; the row catches up later
                    log.warning("could not save the progress of %s: %s", download_id, exc)

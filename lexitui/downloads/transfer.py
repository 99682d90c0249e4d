"""Fetching one file into its locked partial: parallel Range chunks, or one stream.

Ranged mode (size known, ranges accepted): the gaps in the partial are cut into chunks, and N
workers fetch them. A chunk that fails is retried alone, from the first byte not yet on disk
(D5, D6): the other workers carry on. A 403 from the CDN sends us back to the origin for a fresh
signed URL (D10). A 200 to a Range request is never written (D1): a second one means the server
does not do ranges, and the file is fetched again whole, from byte 0, in stream mode.

Stream mode (size unknown, or no ranges): one GET from the first missing byte; a 200 restarts
at 0, a 416 at the end of a complete partial means there is nothing left to fetch (D4), and a
stream that ends cleanly without a Content-Length tells the size (D9).

Bytes are buffered per connection and written at their offset; a checkpoint every
``checkpoint_interval_s`` fsyncs them and records them in the meta (D7). A full disk stops every
worker at once and keeps what is on disk (D11).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import httpx

from lexitui.domain.downloads import DownloadOptions
from lexitui.downloads.errors import (
    DownloadError,
    RangeIgnoredError,
    RemoteChangedError,
    TransientError,
    UrlExpiredError,
)
from lexitui.downloads.fetch import Request, Unsatisfiable, open_body
from lexitui.downloads.hashing import PrefixHasher
from lexitui.downloads.http_status import RetryLater, shown_url
from lexitui.downloads.limiter import RateLimiter
from lexitui.downloads.partial import PartialFile
from lexitui.downloads.ranges import plan_chunks
from lexitui.downloads.settings import ManagerSettings
from lexitui.downloads.source import Source

MAX_BACKOFF_S = 10.0


@dataclass(frozen=True)
class TransferSettings:
    connections: int = 4
    chunk_size: int = 10 * 1024 * 1024
    chunk_retries: int = 5  # per chunk, counted since its last byte of progress
    retry_delay_s: float = 0.5  # doubles per failure, up to MAX_BACKOFF_S
    checkpoint_interval_s: float = 0.5
    buffer_bytes: int = 1 << 20

    @classmethod
    def for_download(cls, manager: ManagerSettings, options: DownloadOptions) -> TransferSettings:
        """A download's own connections and chunk size, with the manager's retry policy."""
        return cls(
            connections=max(1, options.max_concurrent_connections),
            chunk_size=max(1, options.chunk_size_bytes),
            chunk_retries=manager.chunk_retries,
            retry_delay_s=manager.chunk_retry_delay_s,
            checkpoint_interval_s=manager.checkpoint_interval_s,
        )


class Transfer:
    def __init__(
        self,
        client: httpx.AsyncClient,
        source: Source,
        partial: PartialFile,
        hasher: PrefixHasher,
        settings: TransferSettings,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._client = client
        self._source = source
        self._partial = partial
        self._hasher = hasher
        self._settings = settings
        self._limiter = limiter
        self._ignored = 0
        self.fetched = 0  # body bytes received, kept or not: what a resume costs

    async def run(self) -> None:
        """Return once every byte is on disk and in the meta; raise a DownloadError else."""
        ticker = asyncio.get_running_loop().create_task(self._checkpoints())
        failed = True
        try:
            size = self._partial.identity.size
            if size is not None and self._source.current.accepts_ranges:
                try:
                    await self._ranged(size)
                except RangeIgnoredError:
                    await self._restart()
                    await self._stream()
            else:
                await self._stream()
            failed = False
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            try:
                await self._partial.checkpoint()
            except DownloadError:
                if not failed:
                    raise  # else the error that stopped us is the one to report

    # -- ranged mode ----------------------------------------------------------------------------

    async def _ranged(self, size: int) -> None:
        gaps = self._partial.done.missing(size)
        pieces = deque(plan_chunks(gaps, self._settings.chunk_size))
        count = min(self._settings.connections, len(pieces))
        await run_all([self._worker(pieces) for _ in range(count)])

    async def _worker(self, pieces: deque[tuple[int, int]]) -> None:
        while pieces:
            start, end = pieces.popleft()
            await self._piece(start, end)

    async def _piece(self, start: int, end: int) -> None:
        failures = 0
        while (position := self._partial.done.end_of(start)) < end:
            remote = self._source.current
            request = Request(
                remote.data_url,
                remote.origin_url,
                self._source.auth,
                position,
                end,
                if_range=remote.identity.etag,
            )
            try:
                await self._copy(request)
            except UrlExpiredError:
                await self._source.refresh(remote.data_url)
            except RangeIgnoredError:
                self._ignored += 1
                if self._ignored >= 2:
                    raise  # the server does not do ranges: start over without them
                failures = await self._backoff(failures, position, end, None)
            except Unsatisfiable:
                raise RemoteChangedError(
                    f"{shown_url(remote.origin_url)} is shorter than {end} bytes now"
                ) from None
            except TransientError as exc:
                failures = await self._backoff(failures, position, end, exc)

    async def _backoff(
        self, failures: int, position: int, end: int, error: TransientError | None
    ) -> int:
        """Wait before retrying a chunk; raise once it failed too often without progress."""
        if self._partial.done.end_of(position) > position:
            failures = 0  # it moved forward before failing: a fresh count (D5)
        failures += 1
        if failures > self._settings.chunk_retries:
            if error is not None:
                raise error
            raise TransientError(f"bytes {position}-{end - 1} kept failing")
        delay = min(self._settings.retry_delay_s * 2 ** (failures - 1), MAX_BACKOFF_S)
        if isinstance(error, RetryLater) and error.delay_s is not None:
            delay = max(delay, error.delay_s)
        await asyncio.sleep(delay)
        return failures

    # -- stream mode ----------------------------------------------------------------------------

    async def _stream(self) -> None:
        failures = 0
        while True:
            done = self._partial.done
            position = done.prefix_end()
            if done.total != position:  # islands from ranged mode: a stream cannot fill them
                await self._restart()
                position = 0
            size = self._partial.identity.size
            if size is not None and position >= size:
                return  # every byte is there already (D4): verify, do not fetch
            remote = self._source.current
            request = Request(
                remote.data_url,
                remote.origin_url,
                self._source.auth,
                position,
                None,
                if_range=remote.identity.etag,
                whole_ok=True,
            )
            try:
                if await self._copy(request):
                    return
                raise TransientError(f"{shown_url(remote.origin_url)} ended the file early")
            except UrlExpiredError:
                await self._source.refresh(remote.data_url)
            except Unsatisfiable as answer:
                if position > 0 and answer.total == position and size in (None, position):
                    await self._partial.set_size(position)  # complete already (D4)
                    return
                await self._restart()
                failures = await self._backoff(failures, 0, 1, None)
            except TransientError as exc:
                failures = await self._backoff(failures, position, position + 1, exc)

    async def _restart(self) -> None:
        await self._partial.reset()
        self._hasher.reset()

    # -- copying --------------------------------------------------------------------------------

    async def _copy(self, request: Request) -> bool:
        """Write the body at its offset; True when a stream reached the file's end."""
        async with open_body(self._client, request) as body:
            position = body.start
            if position != request.start:  # the whole file, for a stream (D1: never append)
                await self._restart()
            size = self._partial.identity.size
            limit = body.end if body.end is not None else size
            buffer = Pending()
            clock = asyncio.get_running_loop().time
            flushed_at = clock()
            try:
                async for data in body.pieces():
                    if limit is not None and position + buffer.size + len(data) > limit:
                        data = data[: limit - position - buffer.size]
                    if self._limiter is not None:
                        await self._limiter.take(len(data))
                    self.fetched += len(data)
                    buffer.add(data)
                    # Big writes for speed; on a slow link, often enough that a kill or a
                    # pause loses little (only what is written is checkpointed).
                    if (
                        buffer.size >= self._settings.buffer_bytes
                        or clock() - flushed_at >= self._settings.checkpoint_interval_s
                    ):
                        position = await self._flush(position, buffer)
                        buffer = Pending()
                        flushed_at = clock()
            except (TransientError, asyncio.CancelledError):
                # What arrived intact is kept: a retry (D5) or a resume asks for the rest.
                await self._flush(position, buffer)
                raise
            position = await self._flush(position, buffer)
        if request.end is not None:
            return True
        if size is None:
            if body.decoded or body.total is None or position == body.total:
                await self._partial.set_size(position)  # the stream's end is the file's end
                return True
            return False
        return position >= size

    async def _flush(self, position: int, buffer: Pending) -> int:
        if not buffer.size:
            return position
        await self._partial.write(position, buffer.pieces)
        self._hasher.poke()
        return position + buffer.size

    async def _checkpoints(self) -> None:
        while True:
            await asyncio.sleep(self._settings.checkpoint_interval_s)
            # A failure here (a full disk) shows up at the next write, where it stops the run.
            with contextlib.suppress(DownloadError, OSError):
                await self._partial.checkpoint()


class Pending:
    """Received pieces not yet written: kept as they came, written with one ``pwritev``."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.size = 0

    def add(self, data: bytes) -> None:
        self.pieces.append(data)
        self.size += len(data)


async def run_all(coroutines: list[Coroutine[Any, Any, None]]) -> None:
    """Run the workers together; the first failure cancels the rest at once and is raised."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    if not tasks:
        return
    try:
        finished, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in finished:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

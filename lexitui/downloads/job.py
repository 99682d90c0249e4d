"""One download from start to installed model: the roadmap's pipeline for one variant.

1. Pre-checks: every file resolved at the origin (size, sha256); files whose blob is already
   in the store are skipped; free space for the rest + 20% (D11, before any byte).
2. Each missing file into its locked partial (``Transfer``), hashed while it arrives.
3. sha256 against the registry's (D8) and, for ``.gguf``, the header parsed; a failure deletes
   the bytes and is never installed. A good file becomes ``blobs/sha256-{hash}``.
4. Install: links with the original names, manifest, store row, ``ModelInstalled``.

A split variant is one unit: its parts are fetched in order, each its own blob, and the model
is installed only once all of them verified.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx

from lexitui.domain.downloads import ModelDownload
from lexitui.domain.enums import DownloadStatus
from lexitui.domain.models import InstalledModel
from lexitui.downloads import model_lock
from lexitui.downloads.errors import (
    DownloadError,
    IntegrityError,
    InvalidModelFileError,
    ProtocolError,
)
from lexitui.downloads.hashing import PrefixHasher
from lexitui.downloads.http_status import shown_url
from lexitui.downloads.install import Blob, install, install_id
from lexitui.downloads.layout import EMPTY_SHA256, StoreLayout, local_file_name, partial_key
from lexitui.downloads.limiter import RateLimiter
from lexitui.downloads.meta import Identity, load_meta
from lexitui.downloads.partial import PartialFile
from lexitui.downloads.resolve import Auth, RemoteFile, resolve
from lexitui.downloads.source import Source
from lexitui.downloads.space import check_space
from lexitui.downloads.transfer import Transfer, TransferSettings
from lexitui.downloads.verify import IntegrityVerifier, check_digest
from lexitui.events import EventBus
from lexitui.store.installed_models import ModelRegistry

StatusCallback = Callable[[DownloadStatus, str | None], None]


@dataclass(frozen=True)
class FileSpec:
    index: int
    count: int
    remote_path: str
    name: str  # the local name: the remote path's last segment (P1-checked)
    url: str  # the origin URL; the bytes may come from elsewhere after a redirect
    listed_sha256: str | None
    listed_size: int | None


@dataclass
class JobContext:
    layout: StoreLayout
    client: httpx.AsyncClient
    registry: ModelRegistry
    bus: EventBus
    verifier: IntegrityVerifier
    auth: Callable[[str], Auth | None]  # the token policy for an origin URL
    limiter: RateLimiter | None = None
    settings: TransferSettings = field(default_factory=TransferSettings)
    # Checks a size learnt from the server (a plain URL is queued without one): the edition's
    # storage limit, before any byte is fetched.
    admit_size: Callable[[int], Awaitable[None]] | None = None


def file_specs(download: ModelDownload) -> list[FileSpec]:
    variant = download.variant
    files = variant.files or (variant.filename,)
    if any(".gguf.part" in f.lower() for f in files):
        raise ProtocolError(
            f"{variant.variant_id} is split with `split` (.partNofM): join its parts by hand"
        )
    url = variant.download_url
    if not url:
        raise DownloadError(f"{variant.variant_id}: the registry gave no download URL")
    names = [local_file_name(f) for f in files]
    first = quote(files[0])
    if len(files) > 1 and not url.endswith(first):
        raise DownloadError(f"{shown_url(url)} is not the URL of {files[0]}")
    prefix = url[: -len(first)] if len(files) > 1 else url
    single = len(files) == 1
    return [
        FileSpec(
            index=i,
            count=len(files),
            remote_path=path,
            name=names[i],
            url=url if single else prefix + quote(path),
            listed_sha256=variant.sha256.lower() if single and variant.sha256 else None,
            listed_size=variant.size_bytes if single and variant.size_bytes > 0 else None,
        )
        for i, path in enumerate(files)
    ]


class DownloadJob:
    def __init__(
        self, download: ModelDownload, context: JobContext, on_status: StatusCallback
    ) -> None:
        self.download = download
        self._ctx = context
        self._on_status = on_status
        self._finished_bytes = 0  # files already verified or skipped
        self._current: PartialFile | None = None
        self.total_bytes = download.total_bytes
        self.fetched_bytes = 0  # every body byte received, for "what did a resume cost"

    def downloaded_bytes(self) -> int:
        """Bytes on disk so far: polled by the progress ticker."""
        current = self._current
        return self._finished_bytes + (current.done.total if current is not None else 0)

    async def run(self) -> InstalledModel:
        """The whole job under the model's cross-host lock: another lexitui (here, or on a
        host sharing the store) downloading or deleting the same model is waited for."""
        self._ctx.layout.ensure()
        model_id = install_id(self.download)
        lock = await model_lock.wait_for(self._ctx.layout, model_id, "download", self._held)
        try:
            return await self._run()
        finally:
            await asyncio.to_thread(lock.release)

    async def _run(self) -> InstalledModel:
        ctx = self._ctx
        specs = file_specs(self.download)
        remotes = [await self._resolve(spec) for spec in specs]
        sizes = [r.size or 0 for r in remotes]
        if all(r.size for r in remotes):
            self.total_bytes = sum(sizes)
        self._check_space(specs, remotes)
        if ctx.admit_size is not None and self.download.total_bytes <= 0 and self.total_bytes:
            await ctx.admit_size(self.total_bytes)
        # Verified parts stay locked in downloads/ until every part is verified: a blob that
        # no manifest names yet would be fair game for another instance's start-up sweep.
        held: list[PartialFile] = []
        try:
            blobs = [
                await self._fetch(spec, remote, held)
                for spec, remote in zip(specs, remotes, strict=True)
            ]
            self._on_status(DownloadStatus.INSTALLING, "installing")
            for partial, blob in zip(held, [b for b in blobs if b.pending], strict=True):
                await partial.promote(ctx.layout.blob_path(blob.sha256))
        finally:
            for partial in held:
                partial.close()
        self.total_bytes = sum(b.size for b in blobs)  # known now, even where nobody said
        return await install(ctx.layout, ctx.registry, ctx.bus, self.download, blobs)

    async def _resolve(self, spec: FileSpec) -> RemoteFile:
        remote = await resolve(self._ctx.client, spec.url, self._ctx.auth(spec.url))
        identity = Identity(
            remote.size or spec.listed_size,
            remote.identity.sha256 or spec.listed_sha256,
            remote.identity.etag,
        )
        return RemoteFile(remote.origin_url, remote.data_url, identity, remote.accepts_ranges)

    def _check_space(self, specs: list[FileSpec], remotes: list[RemoteFile]) -> None:
        layout = self._ctx.layout
        needed = 0
        for spec, remote in zip(specs, remotes, strict=True):
            sha, size = remote.identity.sha256, remote.size
            if sha and layout.has_blob(sha, size):
                continue
            meta = load_meta(
                layout.meta_path(partial_key(self.download.id, spec.index, spec.count))
            )
            have = meta.done.total if meta and meta.identity.same_file(remote.identity) else 0
            needed += max((size or 0) - have, 0)
        check_space(layout.downloads_dir, needed)

    async def _fetch(self, spec: FileSpec, remote: RemoteFile, held: list[PartialFile]) -> Blob:
        """The file's blob when the store has it, else the verified partial (appended to
        ``held``, still locked) and the blob it will become."""
        layout, identity = self._ctx.layout, remote.identity
        if identity.sha256 and layout.has_blob(identity.sha256, identity.size):
            return self._skip(spec, identity.sha256, identity.size or 0)
        key = partial_key(self.download.id, spec.index, spec.count)
        partial = await PartialFile.open(layout, key, self._waiting)
        try:
            # Another instance may have finished this file while we waited for its lock.
            if identity.sha256 and layout.has_blob(identity.sha256, identity.size):
                partial.discard()
                return self._skip(spec, identity.sha256, identity.size or 0)
            await partial.adopt(identity, shown_url(spec.url))
            self._on_status(DownloadStatus.DOWNLOADING, f"fetching {spec.name}")
            # Left in place if the transfer stops: its count is what a pause reports.
            self._current = partial
            blob = await self._transfer(spec, remote, partial)
        except BaseException:
            partial.close()
            raise
        held.append(partial)
        self._current = None
        self._finished_bytes += blob.size
        return blob

    async def _transfer(self, spec: FileSpec, remote: RemoteFile, partial: PartialFile) -> Blob:
        ctx = self._ctx
        hasher = PrefixHasher(partial.read, partial.done.prefix_end)
        hasher.start()
        source = Source(ctx.client, remote, ctx.auth(spec.url))
        transfer = Transfer(ctx.client, source, partial, hasher, ctx.settings, ctx.limiter)
        try:
            await transfer.run()
        finally:
            self.fetched_bytes += transfer.fetched
            with contextlib.suppress(Exception):
                await hasher.stop()
        size = partial.identity.size if partial.identity.size is not None else 0
        self._on_status(DownloadStatus.VERIFYING, spec.name)
        digest = await hasher.finish(size)
        expected = partial.identity.sha256
        if digest == EMPTY_SHA256:
            partial.discard()
            raise InvalidModelFileError(f"{spec.name} came back empty (0 bytes); not installed")
        verdict = check_digest(digest, expected, spec.name)
        if not verdict.is_valid:
            partial.discard()  # D8: deleted here, recorded by the manager, never installed
            raise IntegrityError(f"{verdict.error}; the download was deleted")
        if spec.name.lower().endswith(".gguf"):
            validation = await ctx.verifier.validate_gguf(partial.path)
            if not validation.is_valid:
                partial.discard()
                raise InvalidModelFileError(f"not a usable GGUF file: {validation.error}")
        await partial.checkpoint()
        return Blob(digest, size, spec.name, spec.remote_path, pending=True)

    def _skip(self, spec: FileSpec, sha256: str, size: int) -> Blob:
        self._finished_bytes += size
        return Blob(sha256, size, spec.name, spec.remote_path)

    def _held(self, message: str) -> None:
        self._on_status(DownloadStatus.DOWNLOADING, f"waiting: {message}")

    def _waiting(self) -> None:
        self._on_status(
            DownloadStatus.DOWNLOADING, "waiting: another lexitui process is downloading this file"
        )

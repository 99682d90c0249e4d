"""A partial download held open and locked: its bytes, its meta, and the moves it can make.

While a ``PartialFile`` is open this process is the file's only writer (D12). Writes go to their
offset (chunks arrive out of order); ``checkpoint`` makes them durable in the order that keeps
D7: fsync the bytes, then atomically replace the meta that claims them. ``promote`` renames the
finished file into the blob store; ``discard`` deletes it; both while the lock is still held,
so no other instance can pick up a half-moved file.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from lexitui.downloads import lock
from lexitui.downloads.errors import DiskFullError, DownloadError, UnsafePathError
from lexitui.downloads.io_gate import GateClosed, IoGate
from lexitui.downloads.layout import StoreLayout
from lexitui.downloads.meta import (
    Identity,
    PartialMeta,
    delete_meta,
    load_meta,
    save_meta,
)
from lexitui.downloads.ranges import RangeSet
from lexitui.files.atomic import fsync_dir

T = TypeVar("T")
FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
IOV_MAX = 512  # well under every platform's limit on buffers per pwritev


class PartialFile:
    def __init__(self, path: Path, meta_path: Path, fd: int, meta: PartialMeta | None) -> None:
        self.path = path
        self.meta_path = meta_path
        self._fd: int | None = fd
        self._loaded = meta
        self._meta = PartialMeta(Identity(None, None, None), RangeSet())
        self._dirty = False
        self._saving = asyncio.Lock()
        self._gate = IoGate()
        self._meta_mutex = threading.Lock()  # a cancelled checkpoint's thread may still run

    @classmethod
    async def open(
        cls, layout: StoreLayout, key: str, on_wait: Callable[[], None] | None = None
    ) -> PartialFile:
        """Lock the partial for ``key`` (waiting while another instance holds it)."""
        path = layout.partial_path(key)
        fd = await lock.acquire(path, on_wait)
        try:
            meta = load_meta(layout.meta_path(key))
            if meta is not None:
                # Never trust the meta past the bytes really there (a truncated copy, a reset).
                meta.done.clip(os.fstat(fd).st_size)
        except BaseException:
            lock.release(fd)
            raise
        return cls(path, layout.meta_path(key), fd, meta)

    @property
    def fd(self) -> int:
        if self._fd is None:
            raise DownloadError(f"{self.path.name} is closed")
        return self._fd

    @property
    def done(self) -> RangeSet:
        return self._meta.done

    @property
    def identity(self) -> Identity:
        return self._meta.identity

    async def adopt(self, identity: Identity, source: str) -> bool:
        """Bind the partial to ``identity``: True when its bytes are kept, False when the file
        on disk was of another remote file (or of none known) and has been emptied (D3)."""
        old = self._loaded
        self._loaded = None
        if old is not None and old.identity.same_file(identity):
            self._meta = PartialMeta(identity, old.done, source)
            self._dirty = True
            await self.checkpoint()
            return True
        self._meta = PartialMeta(identity, RangeSet(), source)
        await self.reset()
        return False

    async def write(self, offset: int, pieces: Sequence[bytes]) -> None:
        """Write consecutive pieces starting at ``offset`` (in a thread: a disk may be slow)."""
        fd = self.fd
        await self._io(lambda: _pwrite_all(fd, pieces, offset, self.path))
        self._meta.done.add(offset, offset + sum(len(p) for p in pieces))
        self._dirty = True

    async def checkpoint(self) -> None:
        """fsync what was written, then record it in the meta (in that order, D7)."""
        async with self._saving:
            if not self._dirty or self._fd is None:
                return
            self._dirty = False
            snapshot = PartialMeta(self._meta.identity, self._meta.done.copy(), self._meta.source)
            fd = self.fd
            try:
                await self._io(lambda: self._sync_and_save(fd, snapshot))
            except BaseException:
                self._dirty = True
                raise

    async def reset(self) -> None:
        """Empty the partial: its bytes are of no use (another file, a 200 to a Range)."""
        fd = self.fd
        await self._io(lambda: os.ftruncate(fd, 0))
        self._meta.done.clear()
        self._dirty = True
        await self.checkpoint()

    async def set_size(self, size: int) -> None:
        """The size learnt at the end of a stream whose length was not announced (D9)."""
        self._meta = PartialMeta(
            Identity(size, self._meta.identity.sha256, self._meta.identity.etag),
            self._meta.done,
            self._meta.source,
        )
        self._dirty = True
        await self.checkpoint()

    async def promote(self, dest: Path) -> None:
        """Move the finished bytes to ``dest`` (a blob path) and forget the meta; then unlock.

        ``os.replace`` replaces a planted symlink at ``dest`` rather than writing through it."""
        fd = self.fd
        await self._io(lambda: os.fsync(fd))
        if not lock.still_linked(fd, self.path):  # the path was swapped under our lock
            raise UnsafePathError(f"{self.path} was replaced during the download; not installed")
        os.replace(self.path, dest)
        fsync_dir(dest.parent)
        delete_meta(self.meta_path)
        self.close()

    def discard(self) -> None:
        """Delete the partial and its meta (a failed check, a cancel); then unlock."""
        if self._fd is None:
            return
        for path in (self.path, self.meta_path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        delete_meta(self.meta_path)
        self.close()

    def read(self, offset: int, size: int) -> bytes:
        """Bytes of the partial, for the hasher's thread (through the gate, like every I/O)."""
        fd = self.fd
        return self._gate.run(lambda: os.pread(fd, size, offset))

    def close(self) -> None:
        """Unlock and close, after any I/O still running in a thread has finished."""
        if self._fd is not None:
            self._gate.close()
            lock.release(self._fd)
            self._fd = None

    async def _io(self, operation: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(self._gate.run, operation)
        except GateClosed:
            raise DownloadError(f"{self.path.name} was closed during a write") from None

    def _sync_and_save(self, fd: int, snapshot: PartialMeta) -> None:
        try:
            with self._meta_mutex:
                os.fsync(fd)
                save_meta(self.meta_path, snapshot)
        except OSError as exc:
            if exc.errno in FULL_ERRNOS:
                raise DiskFullError(f"disk full while saving {self.meta_path.name}") from None
            raise


def _pwrite_all(fd: int, pieces: Sequence[bytes], offset: int, path: Path) -> None:
    """Write ``pieces`` back to back at ``offset``: one ``pwritev`` call, no joining copy."""
    views = deque(memoryview(p) for p in pieces if p)
    try:
        while views:
            written = os.pwritev(fd, list(itertools.islice(views, IOV_MAX)), offset)
            offset += written
            while written:
                head = views[0]
                if written >= len(head):
                    written -= len(head)
                    views.popleft()
                else:
                    views[0] = head[written:]
                    written = 0
    except OSError as exc:
        if exc.errno in FULL_ERRNOS:
            raise DiskFullError(
                f"disk full writing {path.name}: free some space and run the download again "
                "(it resumes)"
            ) from None
        raise DownloadError(f"cannot write {path}: {exc.strerror or exc}") from None

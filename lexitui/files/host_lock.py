"""Locks that hold across hosts sharing one model store on a network file system.

``flock`` alone is not enough there: whether it reaches the server depends on the client and
its mount options, and a lock whose holder's host went away is never released. So a lock is a
file, made whole with ``O_CREAT|O_EXCL`` under a unique name and then hard-linked into place
(``link`` fails if the name exists, atomically, on NFS too). It names its holder as JSON:
``{host, pid, started, heartbeat, purpose, token}``; the holder rewrites ``heartbeat`` every few
seconds while it works.

A lock is stale when its host is this host and its process is gone (or the pid now belongs to
a newer process), or, held by another host, when no heartbeat came for the lease. A stale lock
is taken over by renaming it aside (one taker wins the rename) and linking ours in; the old
holder is logged, never silently dropped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psutil

log = logging.getLogger(__name__)
HOST_ENV = "LEXITUI_HOST_NAME"
LEASE_ENV = "LEXITUI_LOCK_LEASE_S"
DEFAULT_LEASE_S = 60.0
MAX_LOCK_BYTES = 4096
WORDS = {"download": "downloaded", "delete": "deleted", "install": "installed"}


def this_host() -> str:
    """The name this host goes by in locks and manifests (``LEXITUI_HOST_NAME`` overrides the
    system's: two hosts behind one name would take each other's locks for their own)."""
    return os.environ.get(HOST_ENV, "").strip() or socket.gethostname()


def lease_s() -> float:
    """How long another host's lock stays valid without a heartbeat (``LEXITUI_LOCK_LEASE_S``)."""
    try:
        value = float(os.environ.get(LEASE_ENV, ""))
    except ValueError:
        return DEFAULT_LEASE_S
    return value if 1 <= value <= 86_400 else DEFAULT_LEASE_S


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    started: float
    heartbeat: float
    purpose: str
    token: str

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__).encode()

    def describe(self) -> str:
        """``being downloaded by gpu2 (pid 4312) since 10:02``."""
        since = datetime.fromtimestamp(self.started).strftime("%H:%M")
        doing = WORDS.get(self.purpose, self.purpose)
        return f"being {doing} by {self.host} (pid {self.pid}) since {since}"


class LockHeld(Exception):
    def __init__(self, what: str, holder: Holder) -> None:
        super().__init__(f"{what} is {holder.describe()}")
        self.holder = holder


def read_holder(path: Path) -> Holder | None:
    """The lock's holder; None when there is no lock or it cannot be read as one."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        doc = json.loads(os.read(fd, MAX_LOCK_BYTES))
        return Holder(
            str(doc["host"]),
            int(doc["pid"]),
            float(doc["started"]),
            float(doc.get("heartbeat", doc["started"])),
            str(doc.get("purpose", "used")),
            str(doc.get("token", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    finally:
        os.close(fd)


def is_stale(holder: Holder, *, host: str, lease: float, now: float, mtime: float) -> bool:
    if holder.host == host:
        try:
            created = psutil.Process(holder.pid).create_time()
        except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
            return not psutil.pid_exists(holder.pid)
        return created > holder.started + 1  # the pid was reused by a newer process
    # Another host: its heartbeat, or the file's own time (the server's clock) if later.
    return now - max(holder.heartbeat, mtime) > lease


class HostLock:
    """One held lock; ``release`` (or leaving the ``with``) removes it if it is still ours."""

    def __init__(self, path: Path, holder: Holder, heartbeat_s: float) -> None:
        self.path = path
        self.holder = holder
        self.took_over: Holder | None = None
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._beating, args=(heartbeat_s,), daemon=True)
        self._beat.start()

    def __enter__(self) -> HostLock:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()

    def still_ours(self) -> bool:
        found = read_holder(self.path)
        return found is not None and found.token == self.holder.token

    def release(self) -> None:
        self._stop.set()
        if self._beat is not threading.current_thread():
            self._beat.join()
        if self.still_ours():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    def _beating(self, every: float) -> None:
        while not self._stop.wait(every):
            if not self.still_ours():
                log.warning("lost the lock %s (taken over)", self.path)
                return
            beat = Holder(**{**self.holder.__dict__, "heartbeat": time.time()})
            tmp = _write_new(self.path, beat)
            try:
                os.replace(tmp, self.path)  # whole file, atomically: readers never see half
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


def acquire(
    path: Path,
    what: str,
    purpose: str,
    *,
    host: str | None = None,
    lease: float | None = None,
    clock: Callable[[], float] = time.time,
) -> HostLock:
    """Take the lock at ``path`` or raise LockHeld naming its holder (``what``: the model)."""
    host = host or this_host()
    lease = lease_s() if lease is None else lease
    now = clock()
    mine = Holder(host, os.getpid(), now, now, purpose, uuid.uuid4().hex)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for _ in range(3):
        tmp = _write_new(path, mine)
        try:
            os.link(tmp, path)
            return HostLock(path, mine, heartbeat_s=max(0.5, lease / 6))
        except FileExistsError:
            holder, mtime = read_holder(path), _mtime(path)
            if mtime is None:
                continue  # let go of between our link and our look: try again
            if holder is None:  # unreadable: its file's age is all there is to judge by
                holder = Holder("an unknown host", 0, mtime, mtime, "used", "")
            if not is_stale(holder, host=host, lease=lease, now=now, mtime=mtime):
                raise LockHeld(what, holder) from None
            taken = _take_over(path, tmp, holder)
            if taken:
                lock = HostLock(path, mine, heartbeat_s=max(0.5, lease / 6))
                lock.took_over = holder
                log.warning("took over the stale lock of %s: %s", what, holder.describe())
                return lock
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    holder = read_holder(path)
    if holder is not None:
        raise LockHeld(what, holder)
    raise OSError(f"cannot take the lock {path}")


def _take_over(path: Path, tmp: Path, stale: Holder) -> bool:
    """Rename the stale lock aside (only one taker's rename finds it), check it was the one
    judged stale, and link ours in. False when someone else got there first."""
    aside = path.with_name(f"{path.name}.stale-{uuid.uuid4().hex}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return False
    moved = read_holder(aside)
    if moved is not None and moved.token != stale.token:
        # A fresh lock replaced the stale one between our read and our rename: put it back.
        with contextlib.suppress(OSError):
            os.link(aside, path)
        os.unlink(aside)
        return False
    os.unlink(aside)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    return True


def _write_new(path: Path, holder: Holder) -> Path:
    """The lock's whole content in a new file of its own (``O_CREAT|O_EXCL``) beside it."""
    tmp = path.with_name(f".{path.name}.{holder.host}.{os.getpid()}.{uuid.uuid4().hex}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        os.write(fd, holder.to_json())
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def _mtime(path: Path) -> float | None:
    try:
        return os.lstat(path).st_mtime
    except FileNotFoundError:
        return None

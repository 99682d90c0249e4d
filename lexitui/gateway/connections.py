"""Keeps the gateway answering while clients hold connections open on purpose.

A client that opens connections and sends a request head one line at a time ("slowloris")
costs it nothing and the server one file descriptor each; left alone, a thousand of them use up
the process's descriptors and the gateway can no longer accept anyone. Three defences:

* a connection cap, below what the open-file limit allows (``connection_cap``). When it is
  reached, the oldest connection that is not being answered (still waiting for its request
  head, or idle between keep-alive requests) is closed to make room, so a client that sends a
  whole request at once always gets in; only when every connection is busy answering is the
  newcomer told 503;
* a total deadline for the request head (in ``http.py``), so a trickled head ends in 408;
* accept errors (``EMFILE``: too many open files) logged once per interval with a count, not
  as one traceback per attempt.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 256
# Descriptors kept for everything else the process opens: the store, logs, engine processes.
FD_RESERVE = 128
ACCEPT_LOG_INTERVAL_S = 10.0
OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


def connection_cap(configured: int) -> int:
    """The cap to use: ``configured``, lowered to what the open-file limit leaves room for.
    Each connection may hold two descriptors while it is answered (its socket and the call to
    the engine or a cloud provider)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return configured
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return configured
    return max(1, min(configured, (soft - FD_RESERVE) // 2))


@dataclass
class _Slot:
    task: asyncio.Task[Any]
    busy: bool = False  # a request head was read and is being answered


class ConnectionTable:
    """The open connections, oldest first, and which of them are busy answering."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._slots: dict[asyncio.Task[Any], _Slot] = {}

    def __len__(self) -> int:
        return len(self._slots)

    def admit(self, task: asyncio.Task[Any]) -> bool:
        """Make room for ``task``; False when every connection is busy (the caller answers
        503). A connection closed to make room is cancelled, which ends it quietly."""
        if len(self._slots) >= self.cap:
            waiting = next((s for s in self._slots.values() if not s.busy), None)
            if waiting is None:
                return False
            del self._slots[waiting.task]
            waiting.task.cancel()
        self._slots[task] = _Slot(task)
        return True

    def set_busy(self, task: asyncio.Task[Any], busy: bool) -> None:
        slot = self._slots.get(task)
        if slot is not None:
            slot.busy = busy

    def discard(self, task: asyncio.Task[Any]) -> None:
        self._slots.pop(task, None)

    def tasks(self) -> list[asyncio.Task[Any]]:
        return list(self._slots)


class AcceptErrorLog:
    """An event-loop exception handler that turns asyncio's "socket.accept() out of system
    resource" reports (one traceback per failed accept) into one warning per interval, with
    how many were folded into it. Everything else goes to the handler it replaced."""

    def __init__(self, interval_s: float = ACCEPT_LOG_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self.folded = 0
        self._last: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: Any = None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop, self._previous = loop, loop.get_exception_handler()
        loop.set_exception_handler(self.handle)

    def uninstall(self) -> None:
        if self._loop is not None and self._loop.get_exception_handler() == self.handle:
            self._loop.set_exception_handler(self._previous)
        self._loop = None

    def handle(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        accepting = str(context.get("message", "")).startswith("socket.accept()")
        if not (accepting and isinstance(exc, OSError) and exc.errno in OUT_OF_RESOURCES):
            if self._previous is not None:
                self._previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        now = time.monotonic()
        self.folded += 1
        if self._last is not None and now - self._last < self.interval_s:
            return
        more = f" ({self.folded - 1} more since the last report)" if self.folded > 1 else ""
        log.warning(
            "gateway: cannot accept connections: %s%s; retrying",
            exc.strerror or exc,
            more,
        )
        self._last, self.folded = now, 0

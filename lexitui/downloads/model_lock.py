"""The cross-host lock of one model in the store, for the writers: a download installing it,
a delete removing it. Another lexitui (on this host or another one sharing the store) holding
it makes a download wait and a delete refuse, and either says who holds it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from lexitui.downloads.layout import StoreLayout
from lexitui.files.host_lock import HostLock, LockHeld, acquire

POLL_S = 0.5


def take(layout: StoreLayout, model_id: str, purpose: str) -> HostLock:
    """The lock now, or LockHeld ("x is being downloaded by gpu2 (pid 4312) since 10:02")."""
    return acquire(layout.lock_path(model_id), model_id, purpose)


async def wait_for(
    layout: StoreLayout, model_id: str, purpose: str, on_wait: Callable[[str], None]
) -> HostLock:
    """The lock once its holder lets go (or its lock goes stale); ``on_wait`` is told who
    holds it each time the holder changes. Cancellable."""
    told: str | None = None
    while True:
        try:
            return await asyncio.to_thread(take, layout, model_id, purpose)
        except LockHeld as held:
            if held.holder.token != told:
                told = held.holder.token
                on_wait(str(held))
            await asyncio.sleep(POLL_S)

"""Running a blocking storage job in a worker thread so that cancelling the awaiting task
stops it: the job gets a ``threading.Event`` it checks between chunks, and the task waits for
the thread to wind down (removing its half-written file) before the cancellation goes on."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def run_stoppable(job: Callable[[threading.Event], T]) -> T:
    cancel = threading.Event()
    worker = asyncio.ensure_future(asyncio.to_thread(job, cancel))
    try:
        return await asyncio.shield(worker)
    except asyncio.CancelledError:
        cancel.set()
        with contextlib.suppress(BaseException):
            await worker
        raise

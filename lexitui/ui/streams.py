"""Subscribing widgets to service streams on Textual's event loop.

Services may publish from worker threads (hardware probes, downloads); ``observe_on`` with the
thread-safe asyncio scheduler moves every callback onto the app's loop before it touches a widget.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from reactivex import Observable
from reactivex import operators as ops
from reactivex.abc import DisposableBase
from reactivex.scheduler.eventloop import AsyncIOThreadSafeScheduler

T = TypeVar("T")


def subscribe_on_loop(stream: Observable[T], on_next: Callable[[T], None]) -> DisposableBase:
    scheduler = AsyncIOThreadSafeScheduler(asyncio.get_running_loop())
    return stream.pipe(ops.observe_on(scheduler)).subscribe(on_next)

"""Subscribing widgets to service streams on Textual's event loop.

Services publish on the app's loop (the bus checks it). ``observe_on`` still hands each item to
the screen in a callback of its own, so a screen's work never runs inside the publisher's call
(and an error in a screen never reaches the service that published).

Screens never read the store on a timer: they read it when the store says a table they show
changed (``changes_of``), and ``at_most_every`` shapes how often that can be — a burst of writes
is one read, and the newest change is never dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import reactivex
from reactivex import Observable
from reactivex import operators as ops
from reactivex.abc import DisposableBase, SchedulerBase
from reactivex.scheduler.eventloop import AsyncIOScheduler

from lexitui.events import EventBus, StoreChanged

T = TypeVar("T")


def subscribe_on_loop(stream: Observable[T], on_next: Callable[[T], None]) -> DisposableBase:
    scheduler = AsyncIOScheduler(asyncio.get_running_loop())
    return stream.pipe(ops.observe_on(scheduler)).subscribe(on_next)


def changes_of(bus: EventBus, tables: Iterable[str]) -> Observable[StoreChanged]:
    """The store's changes that touch any of ``tables``."""
    wanted = frozenset(tables)

    def touches(event: StoreChanged) -> bool:
        return not wanted.isdisjoint(event.tables)

    return bus.of(StoreChanged).pipe(ops.filter(touches))


def at_most_every(seconds: float, *streams: Observable[Any]) -> Observable[Any]:
    """The newest item of any of ``streams``, at most once per ``seconds``, on the running loop.

    ``sample`` keeps the last item of a period (``throttle_first`` would drop the write that
    ends a burst) and says nothing in a period without one. Its timer runs on the asyncio loop
    of whoever subscribes, so nothing fires on a timer thread.
    """

    def build(_scheduler: SchedulerBase | None) -> Observable[Any]:
        loop = asyncio.get_running_loop()
        return reactivex.merge(*streams).pipe(ops.sample(seconds, scheduler=AsyncIOScheduler(loop)))

    return reactivex.defer(build)

"""Shaping how often a screen reads: a burst is one item, the newest one, on the app's loop."""

from __future__ import annotations

import threading

from reactivex.subject import Subject

from lexitui.events import EventBus, StoreChanged
from lexitui.ui.streams import at_most_every, changes_of
from tests.waiting import until


async def test_a_burst_is_one_item_the_newest_delivered_on_the_loop() -> None:
    source: Subject[int] = Subject()
    got: list[tuple[int, threading.Thread]] = []
    subscription = at_most_every(0.05, source).subscribe(
        lambda item: got.append((item, threading.current_thread()))
    )
    try:
        for item in (1, 2, 3):
            source.on_next(item)
        await until(lambda: bool(got))
        source.on_next(4)
        await until(lambda: len(got) == 2)
    finally:
        subscription.dispose()
    assert [item for item, _ in got] == [3, 4]
    assert all(thread is threading.main_thread() for _, thread in got)


def test_changes_of_hears_only_the_tables_asked_for() -> None:
    bus = EventBus()
    heard: list[frozenset[str]] = []
    changes_of(bus, {"routed_requests"}).subscribe(lambda event: heard.append(event.tables))
    bus.publish(StoreChanged(tables=frozenset({"events"})))
    bus.publish(StoreChanged(tables=frozenset({"events", "routed_requests"})))
    assert heard == [frozenset({"events", "routed_requests"})]

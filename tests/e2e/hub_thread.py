"""The fake Hub served from a background thread, for a lexitui that runs in another process."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tests.fakes.hub_records import HubRepo
from tests.fakes.hub_server import FakeHub


@contextmanager
def hub_in_thread(repos: list[HubRepo]) -> Iterator[str]:
    """Serve ``repos`` on loopback until the block ends; yields the Hub's base URL."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    hub = FakeHub(repos)
    try:
        yield asyncio.run_coroutine_threadsafe(hub.start(), loop).result(timeout=30)
    finally:
        asyncio.run_coroutine_threadsafe(hub.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()

"""Waiting in tests: for what the screen or a service shows, never for a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def until(check: Callable[[], bool], seconds: float = 10) -> None:
    """Return once ``check()`` holds; fail after ``seconds`` of wall time (generous: a busy
    machine is slow, never wrong)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the screen never got there")
        await asyncio.sleep(0.02)


async def until_answered(check: Callable[[], Awaitable[bool]], seconds: float = 30) -> None:
    """``until`` for a check that must ask something (an engine's ``/slots``) to know."""
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not so after {seconds:.0f} s")
        await asyncio.sleep(0.05)

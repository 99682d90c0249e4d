"""The partial file's own guarantees: a cancelled write or checkpoint never races the next one,
and the descriptor is closed only after every thread using it is done."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from lexitui.downloads.layout import StoreLayout
from lexitui.downloads.meta import Identity, load_meta
from lexitui.downloads.partial import PartialFile

KEY = "ab" * 16


async def opened(tmp_path: Path) -> tuple[PartialFile, StoreLayout]:
    layout = StoreLayout(tmp_path)
    layout.ensure()
    partial = await PartialFile.open(layout, KEY)
    await partial.adopt(Identity(1000, "0" * 64, '"e"'), "http://x/f")
    return partial, layout


async def test_cancelled_checkpoints_never_collide(tmp_path: Path) -> None:
    partial, layout = await opened(tmp_path)
    for i in range(40):
        await partial.write(i * 10, [b"x" * 10])
        task = asyncio.ensure_future(partial.checkpoint())
        await asyncio.sleep(0)
        task.cancel()  # as the transfer's ticker is cancelled mid-checkpoint
        await partial.checkpoint()
    partial.close()
    meta = load_meta(layout.meta_path(KEY))
    assert meta is not None and list(meta.done) == [(0, 400)]


async def test_close_waits_for_a_write_still_running_in_its_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    partial, _ = await opened(tmp_path)
    real = os.pwritev
    finished: list[float] = []

    def slow(fd: int, buffers: list[memoryview], offset: int) -> int:
        time.sleep(0.2)
        written = real(fd, buffers, offset)
        finished.append(time.monotonic())
        return written

    monkeypatch.setattr(os, "pwritev", slow)
    task = asyncio.ensure_future(partial.write(0, [b"y" * 100]))
    await asyncio.sleep(0.05)
    task.cancel()  # a pause: the coroutine goes, the thread's pwritev does not
    partial.close()
    closed_at = time.monotonic()
    assert finished and finished[0] <= closed_at
    assert partial.path.read_bytes()[:100] == b"y" * 100

"""A storage manager on the test's services, over library folders in the test's temp dir.

The disk figures and the clock are fixed so numbers and ages in assertions are exact; every
file the manager reads or writes is real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lexitui.services import Services
from lexitui.storage.disk import DiskUsage
from lexitui.storage.library_roots import LibraryRoots
from lexitui.storage.manager import StorageManager
from tests.storage.layouts import write_gguf

DISK = DiskUsage(total=1_000_000_000_000, used=600_000_000_000, free=400_000_000_000)


class Clock:
    """Real time plus an offset a test can move forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def roots(tmp_path: Path) -> LibraryRoots:
    return LibraryRoots(
        hf_cache=(tmp_path / "hf",),
        ollama=(tmp_path / "ollama",),
        lmstudio=(tmp_path / "lmstudio",),
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_gguf(tmp_path / "src" / "tiny-llama.Q8_0.gguf")


def build_manager(
    services: Services, roots: LibraryRoots, clock: Clock, **kw: object
) -> StorageManager:
    kw.setdefault("disk_usage", lambda _path: DISK)
    return StorageManager(
        services.paths.data_dir,
        services.store,
        services.registry,
        services.bus,
        roots=roots,
        clock=clock,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
async def manager(
    services: Services, roots: LibraryRoots, clock: Clock
) -> AsyncIterator[StorageManager]:
    built = build_manager(services, roots, clock)
    await built.start()
    try:
        yield built
    finally:
        await built.stop()

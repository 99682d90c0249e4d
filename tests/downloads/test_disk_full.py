"""A disk that fills up while a download runs: one error line, the partial kept, no temp files.

The small files beside a partial (its meta, a manifest) are written to a temp file and renamed;
a full disk used to leave that temp file behind (0 bytes) and the store, on the same disk, then
failed to record the error and printed a database traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lexitui.config import Paths
from lexitui.files import atomic
from lexitui.files.atomic import write_atomic
from tests.downloads.conftest import TINY
from tests.fakes.hub_server import FakeHub

TIMEOUT_S = 60


def test_a_failed_atomic_write_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "meta"  # a folder of its own: the test's home sits in tmp_path too
    folder.mkdir()
    target = folder / "0123456789abcdef.meta"
    target.write_bytes(b"old")

    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "write", full)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, b"new")
    monkeypatch.undo()
    assert sorted(p.name for p in folder.iterdir()) == [target.name]
    assert target.read_bytes() == b"old"  # the old version stays whole


def test_a_shared_write_never_removes_another_writers_temp_file(tmp_path: Path) -> None:
    """Two instances installing one model write its manifest at the same moment: each writes a
    temp file of its own, so neither pulls the other's away before its rename."""
    folder = tmp_path / "manifests"
    folder.mkdir()
    target = folder / "model.json"
    theirs = folder / "model.json.tmp"  # the other writer, half-way through
    theirs.write_bytes(b"{}")
    write_atomic(target, b'{"id": 1}', shared=True)
    assert theirs.exists()
    assert target.read_bytes() == b'{"id": 1}'
    assert sorted(p.name for p in folder.iterdir()) == ["model.json", "model.json.tmp"]


@pytest.fixture
def small_disk(lexitui_home: Path) -> Iterator[Path]:
    """``LEXITUI_HOME`` on its own 2 MiB file system (needs the right to mount a tmpfs)."""
    lexitui_home.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(lexitui_home)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield lexitui_home
    finally:
        subprocess.run(["umount", "-l", str(lexitui_home)], capture_output=True)


def fill(folder: Path) -> None:
    with contextlib.suppress(OSError), open(folder / "filler", "wb") as filler:
        while True:
            filler.write(b"\0" * 4096)
            filler.flush()


async def test_disk_full_mid_download_prints_one_line_and_leaves_no_temp_file(
    hub: FakeHub, small_disk: Path, paths: Paths
) -> None:
    hub.faults.rate = 300  # bytes/s per connection: the disk fills while bytes still arrive
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env["HF_HOME"] = str(small_disk.parent / "hf-home")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lexitui",
        "pull",
        f"{TINY}:Q8_0",
        "--chunk-size",
        "512",
        "--json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    downloads = paths.models_dir / "downloads"
    async with asyncio.timeout(TIMEOUT_S):
        while not any(downloads.glob("*.meta")) if downloads.exists() else True:
            await asyncio.sleep(0.05)
    fill(small_disk)
    out, err = await asyncio.wait_for(process.communicate(), TIMEOUT_S)
    (small_disk / "filler").unlink()

    assert process.returncode == 1
    assert "Traceback" not in err.decode(), err.decode()
    assert len(err.decode().strip().splitlines()) <= 1, err.decode()  # one line at most
    summary = json.loads(out.decode().splitlines()[-1])
    assert summary["event"] == "summary" and summary["status"] == "failed"
    assert "disk full" in summary["error"] or "No space" in summary["error"], summary
    assert [p.name for p in downloads.iterdir() if ".tmp" in p.name] == []
    assert any(downloads.glob("*.partial"))  # kept: the download resumes once there is room

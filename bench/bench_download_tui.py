"""The TUI's CPU share while a download runs at full speed, in a real terminal (tmux).

A local Hub (the test suite's fake Hub, run in this process on its own thread) serves one extra
repo whose GGUF is a generated sparse file (4 GiB by default). The download is queued in a fresh
``LEXITUI_HOME`` before lexitui starts, so the app picks it up at start-up and runs it in its
own process, on its own event loop, exactly as after a restart. The bench opens one screen, waits
for the transfer to reach speed, then reads the lexitui process's CPU time over a window that
ends before the file is complete (so the final hash check is not counted).

The downloader and the UI share the process, so process CPU is downloader + UI. The same run
with the Dashboard open (no download rows on screen) is the baseline; the difference is what the
Downloads screen costs. Goal: the Downloads screen's share under 10% of one core.

``--history N`` first fills the store with N finished downloads (completed, every tenth failed,
every twentieth cancelled), queued and finished through the download queue's own methods as the
downloader would, so the screen has a long history to show beside the live row.

    .venv/bin/python -m bench.bench_download_tui [--size-gib 4] [--window 5] [--history 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import psutil

from lexitui.config import HOME_ENV, Paths
from lexitui.domain.enums import DownloadStatus
from lexitui.services import Services
from tests.fakes.hub_records import HubRepo, disk_file
from tests.fakes.hub_repos import common_files
from tests.fakes.hub_server import FakeHub, default_repos

SOCKET = "lexitui-bench-dl"
REPO = "bench/big-sparse-GGUF"
FILE = "big-sparse.Q8_0.gguf"
HISTORY_REPOS = (
    "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF",
    "TheBloke/Mistral-7B-Instruct-v0.2-GGUF",
)


@dataclass
class Result:
    screen: str
    cpu_percent: float
    mib_per_s: float
    window_s: float


def big_repo(path: Path) -> HubRepo:
    card = {"license": "mit", "pipeline_tag": "text-generation"}
    files = common_files(card, "generated sparse GGUF (bench)")
    files.append(disk_file(FILE, path))
    _ = files[-1].sha256  # hashed once here, not on the Hub's loop while a client waits
    return HubRepo(
        REPO,
        "2025-01-10T10:00:00.000Z",
        "2025-01-10T10:00:00.000Z",
        downloads=1,
        likes=0,
        trending_score=0,
        tags=["gguf", "llama", "text-generation", "license:mit", "region:us"],
        pipeline_tag="text-generation",
        library_name=None,
        card_data=card,
        files=files,
        gguf={"total": path.stat().st_size, "architecture": "llama", "context_length": 2048},
    )


class HubThread:
    """The fake Hub on a loop of its own, so its serving costs this process, not lexitui's."""

    def __init__(self, repos: list[HubRepo]) -> None:
        self.hub = FakeHub(repos)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with self.hub:
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> FakeHub:
        self._thread.start()
        self._ready.wait(30)
        return self.hub

    def __exit__(self, *_: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=True
    ).stdout


async def fill_history(services: Services, rows: int) -> None:
    """``rows`` finished downloads of the Hub's other repos' variants, oldest first."""
    variants = []
    for repo in HISTORY_REPOS:
        details = await services.discovery.details(repo)
        variants += [(details.model, fitted.variant) for fitted in details.variants]
    for n in range(rows):
        model, variant = variants[n % len(variants)]
        queued = await services.downloads.enqueue(model, variant)
        if n % 20 == 19:
            status, error = DownloadStatus.CANCELLED, None
        elif n % 10 == 9:
            status, error = DownloadStatus.FAILED, "sha256 mismatch: the file was deleted"
        else:
            status, error = DownloadStatus.COMPLETED, None
        done = status is DownloadStatus.COMPLETED
        await services.downloads.save(
            replace(
                queued,
                status=status,
                error=error,
                downloaded_bytes=queued.total_bytes if done else queued.total_bytes // 3,
                started_at=queued.queued_at,
                completed_at=datetime.now(UTC) if done else None,
            )
        )


async def queue_download(home: str, endpoint: str, history: int) -> None:
    """Queue the big file in ``home`` (after ``history`` finished ones): lexitui starts it when
    it starts."""
    os.environ[HOME_ENV] = home
    os.environ["HF_ENDPOINT"] = endpoint
    services = Services.build(Paths.from_env())
    await services.store.open()
    try:
        await fill_history(services, history)
        details = await services.discovery.details(REPO)
        variant = next(f.variant for f in details.variants if f.variant.filename == FILE)
        await services.downloads.enqueue(details.model, variant)
    finally:
        await services.store.close()


def measure(hub: FakeHub, key: str, title: str, window_s: float, history: int) -> Result:
    with tempfile.TemporaryDirectory() as home:
        asyncio.run(queue_download(home, hub.base_url, history))
        hub.faults.reset_counters()
        tmux(
            "new-session", "-d", "-s", "b", "-x", "120", "-y", "40",
            "-e", f"{HOME_ENV}={home}", "-e", f"HF_ENDPOINT={hub.base_url}",
            f"exec {sys.executable} -m lexitui",
        )  # fmt: skip
        try:
            pid = int(tmux("display-message", "-p", "-t", "b", "#{pane_pid}").strip())
            deadline = time.monotonic() + 30
            while "lexitui · Dashboard" not in tmux("capture-pane", "-p", "-t", "b"):
                if time.monotonic() > deadline:
                    raise RuntimeError("lexitui did not start")
                time.sleep(0.05)
            tmux("send-keys", "-t", "b", key)
            while title not in tmux("capture-pane", "-p", "-t", "b"):
                time.sleep(0.05)
            time.sleep(2.0)  # settle: the transfer reaches speed, the screen its first rows
            proc = psutil.Process(pid)
            before, sent0, start = proc.cpu_times(), hub.faults.bytes_sent, time.monotonic()
            time.sleep(window_s)
            after, sent1 = proc.cpu_times(), hub.faults.bytes_sent
            elapsed = time.monotonic() - start
            size = hub.repos[REPO].files[-1].size
            if sent1 >= size:
                raise RuntimeError("the download finished inside the window: use a bigger file")
            used = (after.user + after.system) - (before.user + before.system)
            speed = (sent1 - sent0) / elapsed / 2**20
            return Result(title.split("· ")[-1], 100.0 * used / elapsed, speed, elapsed)
        finally:
            subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)
            time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-gib", type=float, default=4.0)
    parser.add_argument("--window", type=float, default=5.0)
    parser.add_argument(
        "--rate-mib", type=float, default=None,
        help="cap each CDN connection (MiB/s), so both screens move the same bytes",
    )  # fmt: skip
    parser.add_argument("--history", type=int, default=0, help="finished downloads stored first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        big = Path(data) / FILE
        with big.open("wb") as f:
            f.truncate(int(args.size_gib * 2**30))  # sparse: zeros that cost no disk to serve
        with HubThread([*default_repos(), big_repo(big)]) as hub:
            if args.rate_mib:
                hub.faults.rate = int(args.rate_mib * 2**20)
            results = [
                measure(hub, "1", "lexitui · Dashboard", args.window, args.history),
                measure(hub, "5", "lexitui · Downloads", args.window, args.history),
            ]
    base = results[0].cpu_percent
    cap = f"{args.rate_mib:g} MiB/s per connection" if args.rate_mib else "full speed"
    rows = f", {args.history} finished downloads stored" if args.history else ""
    print(f"| screen open during the download ({cap}, {args.window:.0f} s window{rows}) "
          "| lexitui process CPU (% of one core) | transfer MiB/s "
          "| CPU per 100 MiB/s | screen's cost |")  # fmt: skip
    print("|---|---|---|---|---|")
    for r in results:
        extra = "baseline" if r is results[0] else f"{r.cpu_percent - base:+.1f} pts"
        per = 100 * r.cpu_percent / r.mib_per_s if r.mib_per_s else float("nan")
        print(f"| {r.screen} | {r.cpu_percent:.1f}% | {r.mib_per_s:.0f} | {per:.1f}% | {extra} |")


if __name__ == "__main__":
    main()

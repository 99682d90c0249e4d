"""``lexitui pull`` as a real process: killed with SIGKILL at random moments and run again until
it finishes (D7), two at once on one file (D12), cleanup while one runs (D13), Ctrl+C.

The fake Hub runs in the test process; its CDN is throttled per connection so a download lasts
a few seconds and the kills land in the middle of it.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from lexitui.config import Paths
from lexitui.downloads.cleanup import cleanup_partials
from lexitui.downloads.layout import StoreLayout
from lexitui.files.host_lock import this_host
from lexitui.gguf.local import read_local_header
from tests.downloads.conftest import STARTER_REPO, TINY, cdn_gets, requested_bytes, sha256_of
from tests.fakes.hub_server import FakeHub

KILLS = 5
TIMEOUT_S = 60


def pull_command() -> list[str]:
    return [sys.executable, "-m", "lexitui", "pull"]


@pytest.fixture
def env(hub: FakeHub, tmp_path: Path) -> dict[str, str]:
    environment = dict(os.environ)
    environment["HF_HOME"] = str(tmp_path / "hf-home")  # never a developer's saved token
    environment["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return environment


async def start(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *pull_command(),
        *args,
        "--json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )


async def finish(process: asyncio.subprocess.Process) -> tuple[int, list[dict[str, Any]], str]:
    out, err = await asyncio.wait_for(process.communicate(), TIMEOUT_S)
    lines = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    assert process.returncode is not None
    return process.returncode, lines, err.decode()


async def kill_at_random(
    env: dict[str, str], args: list[str], paths: Paths, seed: int
) -> list[int]:
    """Run and SIGKILL the pull ``KILLS`` times; returns the bytes recorded on disk after each.

    Odd runs die 0.05-0.5 s after start-up (any moment: resolving, opening, writing); even
    runs die 0.05-0.5 s after their first checkpoint, so later runs have something to resume.
    """
    rng = random.Random(seed)
    recorded: list[int] = []
    for run in range(KILLS):
        before = bytes_on_disk(paths)
        process = await start(env, *args)
        assert process.stdout is not None
        await asyncio.wait_for(process.stdout.readline(), TIMEOUT_S)  # the "started" line
        if run % 2 == 0:
            async with asyncio.timeout(TIMEOUT_S):
                while bytes_on_disk(paths) <= before and process.returncode is None:
                    await asyncio.sleep(0.02)
        await asyncio.sleep(rng.uniform(0.05, 0.5))
        if process.returncode is None:
            process.kill()
        await process.wait()
        recorded.append(bytes_on_disk(paths))
    return recorded


def bytes_on_disk(paths: Paths) -> int:
    """What the metas say is on disk (a meta may vanish while we read: the file finished)."""
    folder = paths.models_dir / "downloads"
    total = 0
    for meta in folder.glob("*.meta") if folder.exists() else ():
        try:
            ranges = json.loads(meta.read_text())["done"]
        except (FileNotFoundError, ValueError, KeyError):
            continue
        total += sum(end - start for start, end in ranges)
    return total


async def test_d7_a_split_gguf_survives_kill_9_at_random_moments(
    hub: FakeHub, env: dict[str, str], paths: Paths
) -> None:
    hub.faults.rate = 700  # bytes/s per connection: 1 KiB chunks, ~4 s for the set
    args = [f"{TINY}:F16", "--chunk-size", "1K"]
    recorded = await kill_at_random(env, args, paths, seed=1)
    assert max(recorded) > 0  # some runs were killed with bytes to resume from
    code, lines, err = await finish(await start(env, *args))
    assert code == 0, err
    summary = lines[-1]
    assert summary["event"] == "summary" and summary["status"] == "completed"
    first = Path(summary["path"])
    header = read_local_header(first)
    assert header.metadata["split.count"] == 2
    for name in ("00001", "00002"):
        part = first.parent / f"tiny-random-llama-F16-{name}-of-00002.gguf"
        served = hub.repos[TINY].file(part.name)
        assert served is not None and sha256_of(part) == served.sha256


async def test_d7_the_starter_model_survives_kill_9_and_resumes_without_refetching(
    hub: FakeHub, env: dict[str, str], paths: Paths
) -> None:
    hub.faults.rate = 8 * 1024 * 1024  # per connection: ~3 s for 98 MB over four
    args = [f"{STARTER_REPO}:Q4_1"]
    recorded = await kill_at_random(env, args, paths, seed=2)
    assert max(recorded) > 0
    have = bytes_on_disk(paths)
    code, lines, err = await finish(await start(env, *args))
    assert code == 0, err
    summary = lines[-1]
    assert summary["status"] == "completed"
    served = hub.repos[STARTER_REPO].file("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert served is not None
    assert sha256_of(summary["path"]) == served.sha256
    read_local_header(summary["path"])
    assert summary["fetched_bytes"] <= served.size - have  # the last run fetched only the gaps


async def test_d12_two_pull_processes_on_one_file_fetch_it_once(
    hub: FakeHub, env: dict[str, str]
) -> None:
    hub.faults.rate = 400  # ~1.3 s of transfer: the second process arrives while it runs
    args = [f"{TINY}:Q8_0", "--chunk-size", "512"]
    first = await start(env, *args)
    second = await start(env, *args)
    results = await asyncio.gather(finish(first), finish(second))
    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    summaries = [lines[-1] for _, lines, _ in results]
    assert {s["status"] for s in summaries} == {"completed"}
    assert summaries[0]["path"] == summaries[1]["path"]
    messages = [str(line.get("message")) for _, lines, _ in results for line in lines]
    # The one that waited was told who holds the model: this host and the other's pid.
    pids = {first.pid, second.pid}
    assert any(
        f"being downloaded by {this_host()} (pid {pid})" in m for m in messages for pid in pids
    )
    assert requested_bytes(cdn_gets(hub), 1792) == 1792


async def test_d13_cleanup_from_another_process_spares_the_running_pull(
    hub: FakeHub, env: dict[str, str], paths: Paths
) -> None:
    hub.faults.rate = 300
    process = await start(env, f"{TINY}:Q8_0", "--chunk-size", "512")
    layout = StoreLayout(paths.models_dir)
    async with asyncio.timeout(TIMEOUT_S):  # a meta is written once the partial is locked
        while not layout.downloads_dir.exists() or not any(layout.downloads_dir.glob("*.meta")):
            await asyncio.sleep(0.02)
    result = await asyncio.to_thread(cleanup_partials, layout, ())
    assert len(result.in_use) == 1 and result.deleted_files == ()
    code, lines, err = await finish(process)
    assert code == 0, err
    served = hub.repos[TINY].file("tiny-random-llama-Q8_0.gguf")
    assert served is not None and sha256_of(lines[-1]["path"]) == served.sha256


async def test_ctrl_c_pauses_and_the_same_pull_resumes(
    hub: FakeHub, env: dict[str, str], paths: Paths
) -> None:
    hub.faults.rate = 300  # ~1.7 s a chunk: Ctrl+C lands mid-way
    args = [f"{TINY}:Q8_0", "--chunk-size", "512"]
    process = await start(env, *args)
    async with asyncio.timeout(TIMEOUT_S):
        while bytes_on_disk(paths) == 0:
            await asyncio.sleep(0.05)
    process.send_signal(signal.SIGINT)
    code, lines, _ = await finish(process)
    assert code == 130
    assert lines[-1]["status"] == "paused"
    have = bytes_on_disk(paths)
    assert have > 0
    hub.faults.rate = None
    code, lines, err = await finish(await start(env, *args))
    assert code == 0, err
    assert lines[-1]["fetched_bytes"] == 1792 - have


async def test_a_bare_repo_is_refused_with_its_variants(hub: FakeHub, env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *pull_command(),
        TINY,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    _, err = await asyncio.wait_for(process.communicate(), TIMEOUT_S)
    assert process.returncode == 1
    (line,) = err.decode().splitlines()
    assert line.startswith("lexitui: ") and f"{TINY}:Q8_0" in line and f"{TINY}:F16" in line

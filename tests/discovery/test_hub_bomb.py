"""The block-count bomb served from a Hub repo: ``show``, ``fit`` and ``pull`` refuse it in one
line, in a fraction of a second and a few tens of MB, and Discover gives it no verdict.

The commands run as real processes against the fake Hub (HF_ENDPOINT), each with its peak memory
measured. Before the shape checks they grew to GBs and died with MemoryError.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from lexitui.config import Paths
from lexitui.services import Services
from tests.discovery.hostile_hub import BOMB_FILE, BOMB_REPO, ChildRun, bomb_repo, run_lexitui
from tests.fakes.hub_repos_served import tiny_fixture_gguf
from tests.fakes.hub_server import FakeHub

MAX_RSS = 150 * 1024**2
REFUSAL = "llama.block_count is 4,294,967,295, outside 1 to 4,096"


@pytest_asyncio.fixture
async def bomb_hub(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeHub]:
    async with FakeHub([bomb_repo(), tiny_fixture_gguf()]) as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.base_url)
        # One run first, untimed: the first lexitui process after a checkout or an install
        # pays for byte-compiling and a cold disk cache, which would be charged to the bomb.
        await lexitui("show", tiny_fixture_gguf().id)
        yield fake


async def lexitui(*args: str) -> ChildRun:
    # The fake Hub serves from this process's loop: wait for the child in a thread.
    return await asyncio.to_thread(run_lexitui, *args)


async def assert_quick(run: ChildRun) -> None:
    """Refused in under a second of its own: at most 1 s more than the same command on a good
    repo takes (Python's and lexitui's start, the Hub's answers). It once took 4-8 s, then died."""
    good = await lexitui("show", tiny_fixture_gguf().id)
    assert good.returncode == 0, good.stderr
    assert run.seconds < good.seconds + 1.0, (run.seconds, good.seconds)


async def test_show_gives_the_bomb_no_verdict(bomb_hub: FakeHub) -> None:
    shown = await lexitui("show", BOMB_REPO)
    assert shown.returncode == 0, shown.stderr
    assert shown.max_rss_bytes < MAX_RSS, shown
    await assert_quick(shown)
    lines = shown.stdout.splitlines()
    assert (
        f"  note: Could not read the GGUF header of {BOMB_FILE} ({REFUSAL}): no verdict for it."
        in lines
    )
    assert f"  No verdict for {BOMB_REPO}: no file's GGUF header could be read." in lines
    variant = lines[-1].split()
    assert variant[0] == "Q4_K_M" and variant[-3:] == ["unknown", "?", "?"], lines[-1]


async def test_fit_refuses_the_bomb_in_one_line(bomb_hub: FakeHub) -> None:
    fitted = await lexitui("fit", f"{BOMB_REPO}/{BOMB_FILE}")
    assert fitted.returncode == 1
    assert fitted.stderr.splitlines() == [f"lexitui: {REFUSAL}"]
    assert fitted.max_rss_bytes < MAX_RSS, fitted
    await assert_quick(fitted)


async def test_pull_refuses_the_bomb_and_installs_nothing(bomb_hub: FakeHub, paths: Paths) -> None:
    pulled = await lexitui("pull", f"{BOMB_REPO}/{BOMB_FILE}")
    assert pulled.returncode == 1
    assert "Traceback" not in pulled.stderr
    last = pulled.stderr.strip().splitlines()[-1]
    assert last.startswith("lexitui: download failed: not a usable GGUF file") and REFUSAL in last
    assert pulled.max_rss_bytes < MAX_RSS, pulled
    await assert_quick(pulled)
    listed = await lexitui("ls", "--json")
    models = json.loads(listed.stdout)
    assert models and all(BOMB_REPO not in f"{m['source']} {m['path']}" for m in models)
    assert not list(paths.models_dir.rglob("*.gguf"))


async def test_discover_details_give_the_bomb_no_verdict_at_once(
    bomb_hub: FakeHub, paths: Paths
) -> None:
    services = Services.build(paths)
    await services.start()
    try:
        good = await services.discovery.details(tiny_fixture_gguf().id)  # hardware read once
        started = time.perf_counter()
        details = await services.discovery.details(BOMB_REPO)
        elapsed = time.perf_counter() - started
    finally:
        await services.stop()
    assert elapsed < 1.0  # a few local requests; it once took seconds, then died
    (variant,) = details.variants
    assert (variant.level, variant.recommended_mode, variant.performance) == (None, None, None)
    assert REFUSAL in (variant.reason or "")
    assert details.summary == f"No verdict for {BOMB_REPO}: no file's GGUF header could be read."
    assert any(REFUSAL in note for note in details.notes)
    assert all(v.level is not None for v in good.variants)  # its neighbours keep theirs

"""Two ``lexitui pull`` processes started together on a fresh home: one download, one transfer.

Both create the database at the same moment, ask the Hub the same questions and queue the same
variant. The fake Hub answers each of its API requests only once both processes have asked it
(or after a while), so they reach the queue together every round: deciding "already queued" is
one write transaction, so the second joins the first download and waits for its lock, and the
file crosses the wire once. Installing the model twice leaves no temp link or temp manifest.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from lexitui.config import HOME_ENV
from tests.downloads.conftest import TINY, cdn_gets, requested_bytes, sha256_of
from tests.fakes.hub_server import FakeHub

ROUNDS = 4
TIMEOUT_S = 90
SIZE = 1792  # tiny-random-llama-Q8_0.gguf
TOGETHER_S = 3.0  # how long one process's API request waits for the other's


def hold_api_requests_until_both_ask(hub: FakeHub) -> Counter[str]:
    """Each API request waits until the other process made the same one (or TOGETHER_S)."""
    asked: Counter[str] = Counter()
    route = hub._route

    async def together(request: Any, user: str | None) -> Any:
        key = f"{request.method} {request.path}"
        asked[key] += 1
        deadline = asyncio.get_running_loop().time() + TOGETHER_S
        while asked[key] % 2 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        return await route(request, user)

    hub._route = together  # type: ignore[method-assign]
    return asked


async def pull(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lexitui",
        "pull",
        f"{TINY}:Q8_0",
        "--json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )


async def one_round(env: dict[str, str]) -> list[tuple[int, dict[str, Any], str]]:
    processes = [await pull(env), await pull(env)]
    outputs = await asyncio.wait_for(
        asyncio.gather(*(p.communicate() for p in processes)), TIMEOUT_S
    )
    results = []
    for process, (out, err) in zip(processes, outputs, strict=True):
        lines = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
        assert process.returncode is not None
        results.append((process.returncode, lines[-1] if lines else {}, err.decode()))
    return results


def leftovers(home: Path) -> list[str]:
    models = home / "data" / "models"
    found = [*models.glob("installed/*/.*"), *models.glob("manifests/*.tmp")]
    return sorted(str(p.relative_to(models)) for p in found)


@pytest.mark.parametrize("round_", range(ROUNDS))
async def test_two_pulls_on_a_fresh_home_queue_one_download_and_fetch_the_file_once(
    hub: FakeHub, tmp_path: Path, round_: int
) -> None:
    hold_api_requests_until_both_ask(hub)
    hub.faults.rate = 2000  # bytes/s per connection: the transfer lasts about a second
    home = tmp_path / f"fresh-home-{round_}"
    env = dict(os.environ)
    env[HOME_ENV] = str(home)
    env["HF_HOME"] = str(tmp_path / "hf-home")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])

    results = await one_round(env)

    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    for _, _, err in results:
        assert "Traceback" not in err and "locked" not in err, err
    summaries = [summary for _, summary, _ in results]
    assert [s["status"] for s in summaries] == ["completed", "completed"]
    assert summaries[0]["download_id"] == summaries[1]["download_id"]  # one download, joined
    assert requested_bytes(cdn_gets(hub), SIZE) == SIZE  # the file crossed the wire once
    served = hub.repos[TINY].file("tiny-random-llama-Q8_0.gguf")
    assert served is not None and sha256_of(summaries[0]["path"]) == served.sha256
    assert leftovers(home) == []

"""A Hub repository serving the block-count bomb (a few hundred bytes of structurally sound
GGUF declaring 4,294,967,295 blocks), and a way to run ``lexitui`` measuring its peak memory."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.hub_records import HubRepo, blob_file
from tests.fakes.hub_repos import common_files
from tests.gguf.craft import block_count_bomb

BOMB_REPO = "evil/block-bomb-GGUF"
BOMB_FILE = "block-bomb-Q4_K_M.gguf"
MEMORY_CAP = 4 * 1024**3  # a safety net: a regression dies with MemoryError, not the machine


def bomb_repo() -> HubRepo:
    card = {"license": "mit", "pipeline_tag": "text-generation"}
    files = [*common_files(card, "block bomb"), blob_file(BOMB_FILE, block_count_bomb())]
    return HubRepo(
        BOMB_REPO,
        "2025-02-01T10:00:00.000Z",
        "2025-02-01T10:00:00.000Z",
        downloads=7,
        likes=0,
        trending_score=0,
        tags=["gguf", "llama", "text-generation", "license:mit", "region:us"],
        pipeline_tag="text-generation",
        library_name=None,
        card_data=card,
        files=files,
        gguf={"total": 300_000_000, "architecture": "llama", "context_length": 2048},
    )


@dataclass(frozen=True)
class ChildRun:
    returncode: int
    stdout: str
    stderr: str
    max_rss_bytes: int  # the command's peak resident memory


# Runs the command and writes its peak RSS to argv[1]. An intermediate process because Linux
# charges a child exec'd straight from pytest with pytest's own peak (exec keeps the old high-water
# mark), and a small launcher's peak is far below anything measured here.
_LAUNCHER = """
import resource, subprocess, sys
cap = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
try:
    code = subprocess.run(sys.argv[4:], timeout=float(sys.argv[3])).returncode
except subprocess.TimeoutExpired:
    code = -9
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code if code >= 0 else 128 - code)
"""


def run_lexitui(*args: str, timeout: float = 120.0) -> ChildRun:
    """``python -m lexitui ARGS`` in the current environment, with its peak RSS."""
    with tempfile.TemporaryDirectory() as folder:
        peak = Path(folder) / "peak"
        command = [sys.executable, "-m", "lexitui", *args]
        launcher = [sys.executable, "-c", _LAUNCHER, str(peak), str(MEMORY_CAP), str(timeout)]
        done = subprocess.run([*launcher, *command], capture_output=True, text=True, check=False)
        return ChildRun(
            done.returncode,
            done.stdout,
            done.stderr,
            int(peak.read_text()) * 1024,  # KiB
        )

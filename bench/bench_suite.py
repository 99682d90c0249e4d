"""How long the test suite takes from a fresh clone: ``make test`` (venv from scratch, lint,
mypy --strict, the import contracts, every test) and then ``make test-fast`` in the same clone.

    .venv/bin/python bench/bench_suite.py [--fast-only]

The clone is of the current commit (``git clone`` of this checkout), so uncommitted changes are
not measured. The CPU llama-server the engine tests also run on is built once per machine into
the user's cache; a first run on a new machine adds that build.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(target: str, where: Path) -> tuple[float, int, str]:
    started = time.perf_counter()
    done = subprocess.run(["make", target], cwd=where, capture_output=True, text=True)
    took = time.perf_counter() - started
    summary = [line for line in done.stdout.splitlines() if " passed" in line or " failed" in line]
    return took, done.returncode, " / ".join(summary)


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fast-only", action="store_true", help="time make test-fast only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        clone = Path(scratch) / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        targets = ["test-fast"] if args.fast_only else ["test", "test-fast"]
        print(f"| target (fresh clone, {os.cpu_count()} cores) | wall time | tests |")
        print("|---|---|---|")
        for target in targets:
            took, code, summary = timed(target, clone)
            if code != 0:
                print(f"make {target} failed (exit {code})", file=sys.stderr)
                return 1
            print(f"| `make {target}` | {minutes(took)} | {summary} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time from launching ``lexitui`` to the first painted dashboard, in a real terminal (tmux).

Polls the tmux pane every 5 ms for the dashboard's title and its first area row, so the figure
includes interpreter start, imports, opening the store and the first paint. Prints a table.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = 7
SOCKET = "lexitui-bench"


def tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=True
    ).stdout


def one_run(home: str) -> float:
    started = time.perf_counter()
    tmux(
        "new-session",
        "-d",
        "-s",
        "b",
        "-x",
        "120",
        "-y",
        "40",
        "-e",
        f"LEXITUI_HOME={home}",
        f"{sys.executable} -m lexitui",
    )
    try:
        while time.perf_counter() - started < 30:
            screen = tmux("capture-pane", "-p", "-t", "b")
            if "lexitui · Dashboard" in screen and "Routing" in screen:
                return time.perf_counter() - started
            time.sleep(0.005)
        raise RuntimeError("dashboard never appeared")
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)
        time.sleep(0.3)


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        one_run(home)  # first run creates the database and warms the file cache
        times = [one_run(home) for _ in range(RUNS)]
    print("| figure | value |")
    print("|---|---|")
    print(
        f"| launch → first painted dashboard, median of {RUNS} | "
        f"{statistics.median(times) * 1000:.0f} ms |"
    )
    print(f"| min / max | {min(times) * 1000:.0f} / {max(times) * 1000:.0f} ms |")
    print(f"| cores | {os.cpu_count()} |")


if __name__ == "__main__":
    main()

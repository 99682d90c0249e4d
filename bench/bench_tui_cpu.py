"""The TUI's CPU share while an area is open, in a real terminal (tmux), idle otherwise.

Starts lexitui, opens the area (Hardware by default: live sparklines, a sample every 2 s), lets it
settle, then reads the process's CPU time over a fixed window. Prints the share of one core
(goal: under 2% with the Hardware screen open). The Dashboard is measured too, as a baseline.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time

import psutil

SOCKET = "lexitui-bench-cpu"
WINDOW_S = 20.0


def tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=True
    ).stdout


def cpu_share(key: str, title: str, home: str) -> float:
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
        f"exec {sys.executable} -m lexitui",
    )
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
        time.sleep(4.0)  # settle: first detection, first samples
        proc = psutil.Process(pid)
        before = proc.cpu_times()
        start = time.monotonic()
        time.sleep(WINDOW_S)
        after = proc.cpu_times()
        used = (after.user + after.system) - (before.user + before.system)
        return 100.0 * used / (time.monotonic() - start)
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)
        time.sleep(0.3)


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        dashboard = cpu_share("1", "lexitui · Dashboard", home)
        hardware = cpu_share("2", "lexitui · Hardware", home)
    print(f"| screen open ({WINDOW_S:.0f} s window) | CPU share of one core |")
    print("|---|---|")
    print(f"| Dashboard | {dashboard:.2f}% |")
    print(f"| Hardware (live monitor, 2 s interval) | {hardware:.2f}% |")


if __name__ == "__main__":
    main()

"""Time from launching ``lexitui`` to the first painted dashboard, in a real terminal (tmux).

Polls the tmux pane every 5 ms for the dashboard's title and its last area row, so the figure
includes interpreter start, imports, opening the store and the first paint. A bare Textual app
(header, one line, footer) is measured the same way in the same run: the floor any Textual app
pays on this machine, so the ratio between the two is what lexitui itself adds.
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
BARE_APP = (
    "from textual.app import App\n"
    "from textual.widgets import Footer, Header, Static\n"
    "class Bare(App):\n"
    "    def compose(self):\n"
    "        yield Header(); yield Static('lexitui · Dashboard Routing'); yield Footer()\n"
    "Bare().run()\n"
)


def tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=True
    ).stdout


def one_run(home: str, command: str) -> float:
    started = time.perf_counter()
    tmux("new-session", "-d", "-s", "b", "-x", "120", "-y", "40",
         "-e", f"LEXITUI_HOME={home}", command)  # fmt: skip
    try:
        while time.perf_counter() - started < 30:
            screen = tmux("capture-pane", "-p", "-t", "b")
            if "lexitui · Dashboard" in screen and "Routing" in screen:
                return time.perf_counter() - started
            time.sleep(0.005)
        raise RuntimeError("the first screen never appeared")
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)
        time.sleep(0.3)


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        bare_script = os.path.join(home, "bare.py")
        with open(bare_script, "w", encoding="utf-8") as script:
            script.write(BARE_APP)
        ours_cmd = f"{sys.executable} -m lexitui"
        bare_cmd = f"{sys.executable} {bare_script}"
        one_run(home, ours_cmd)  # the first run creates the database and warms the file cache
        ours: list[float] = []
        bare: list[float] = []
        for _ in range(RUNS):  # interleaved, so machine noise hits both alike
            ours.append(one_run(home, ours_cmd))
            bare.append(one_run(home, bare_cmd))
    mine, floor = statistics.median(ours) * 1000, statistics.median(bare) * 1000
    print(f"| launch → first paint (median of {RUNS}, {os.cpu_count()} cores) | ms |")
    print("|---|---|")
    print(f"| lexitui dashboard | {mine:.0f} (min {min(ours) * 1000:.0f}) |")
    print(f"| bare Textual app (header, text, footer) | {floor:.0f} (min {min(bare) * 1000:.0f}) |")
    print(f"| ratio lexitui / bare | {mine / floor:.2f} |")


if __name__ == "__main__":
    main()

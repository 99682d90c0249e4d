"""Start-up: the CLI's commands and the TUI, each against a bare Textual floor, in one run.

CLI: ``lexitui --version`` and ``lexitui ls`` against ``python -c "import textual.app"`` (what any
Textual program pays before it can do anything), run interleaved, wall time of the whole process,
median of ``CLI_RUNS``.

TUI: launch in a real terminal (tmux, 120x40), polling the pane every 5 ms. *First frame*: the
dashboard's title and its last area row are painted. *First data*: the machine panel shows the
detected hardware (its "cores / … threads" and "GiB free" lines). A bare Textual app (header, one
line, footer) measured the same way in the same run gives the floor, so the ratios are what
lexitui itself adds.

    .venv/bin/python -m bench.bench_startup
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 7
CLI_RUNS = 15
SOCKET = "lexitui-bench"
BARE_APP = (
    "from textual.app import App\n"
    "from textual.widgets import Footer, Header, Static\n"
    "class Bare(App):\n"
    "    def compose(self):\n"
    "        yield Header(); yield Static('lexitui · Dashboard Routing'); yield Footer()\n"
    "Bare().run()\n"
)
FIRST_FRAME = ("lexitui · Dashboard", "Routing")
FIRST_DATA = ("threads", "GiB free")  # lines the machine panel shows once hardware is detected


def tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=True
    ).stdout


def one_run(home: str, command: str, *, data: bool) -> tuple[float, float]:
    """Seconds to the first frame and (with ``data``) to the first data; 0 when not asked."""
    started = time.perf_counter()
    tmux("new-session", "-d", "-s", "b", "-x", "120", "-y", "40",
         "-e", f"LEXITUI_HOME={home}", command)  # fmt: skip
    frame = 0.0
    try:
        while time.perf_counter() - started < 30:
            screen = tmux("capture-pane", "-p", "-t", "b")
            if not frame and all(text in screen for text in FIRST_FRAME):
                frame = time.perf_counter() - started
            if frame and (not data or all(text in screen for text in FIRST_DATA)):
                return frame, (time.perf_counter() - started if data else 0.0)
            time.sleep(0.005)
        raise RuntimeError("the first screen (or its data) never appeared")
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)
        time.sleep(0.3)


def lexitui_command() -> list[str]:
    """The installed ``lexitui`` script beside this interpreter, as a user runs it."""
    script = Path(sys.executable).with_name("lexitui")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lexitui"]


def time_process(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def row(name: str, runs: list[float], floor: float) -> str:
    median = statistics.median(runs)
    return f"| {name} | {median * 1000:.0f} (min {min(runs) * 1000:.0f}) | {median / floor:.2f} |"


def cli_table(home: str) -> None:
    env = {**os.environ, "LEXITUI_HOME": home}
    commands = {
        "`lexitui --version`": [*lexitui_command(), "--version"],
        "`lexitui ls`": [*lexitui_command(), "ls"],
        '`python -c "import textual.app"`': [sys.executable, "-c", "import textual.app"],
    }
    for command in commands.values():
        time_process(command, env)  # warm the file cache (and create the database)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(CLI_RUNS):  # interleaved, so machine noise hits each alike
        for name, command in commands.items():
            times[name].append(time_process(command, env))
    floor = statistics.median(times['`python -c "import textual.app"`'])
    print(f"| command (median of {CLI_RUNS}, {os.cpu_count()} cores) | ms | ratio to the floor |")
    print("|---|---|---|")
    for name, runs in times.items():
        print(row(name, runs, floor))
    print()


def tui_table(home: str) -> None:
    bare_script = os.path.join(home, "bare.py")
    with open(bare_script, "w", encoding="utf-8") as script:
        script.write(BARE_APP)
    ours_cmd = " ".join(lexitui_command())
    bare_cmd = f"{sys.executable} {bare_script}"
    one_run(home, ours_cmd, data=True)  # the first run creates the database, warms the cache
    frames: list[float] = []
    datas: list[float] = []
    bare: list[float] = []
    for _ in range(RUNS):  # interleaved, so machine noise hits both alike
        frame, data = one_run(home, ours_cmd, data=True)
        frames.append(frame)
        datas.append(data)
        bare.append(one_run(home, bare_cmd, data=False)[0])
    floor = statistics.median(bare)
    print(f"| launch → (median of {RUNS}, tmux 120x40, {os.cpu_count()} cores) | ms | ratio |")
    print("|---|---|---|")
    for name, runs in (
        ("lexitui: first frame (dashboard painted)", frames),
        ("lexitui: first data (machine panel filled)", datas),
        ("bare Textual app (header, text, footer)", bare),
    ):
        print(row(name, runs, floor))


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        if "--tui-only" not in sys.argv:
            cli_table(home)
        if "--cli-only" not in sys.argv:
            tui_table(home)


if __name__ == "__main__":
    main()

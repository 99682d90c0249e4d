"""A tiny driver for a real terminal: lexitui running inside a detached tmux session."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path


class TmuxSession:
    def __init__(
        self, width: int, height: int, home: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name = f"lexitui-{uuid.uuid4().hex[:8]}"
        self.socket = f"lexitui-test-{self.name}"
        self.exit_file = home / "exit-code"
        # Set on the command line: tmux gives the pane its own TERM whatever ``-e`` says, and a
        # test of the Linux console needs TERM=linux to reach lexitui.
        settings = " ".join(shlex.quote(f"{k}={v}") for k, v in (env or {}).items())
        command = (
            f"env {settings} {shlex.quote(sys.executable)} -m lexitui;"
            f" echo $? > {shlex.quote(str(self.exit_file))}"
            "; sleep 30"
        )
        self._tmux(
            "new-session",
            "-d",
            "-s",
            self.name,
            "-x",
            str(width),
            "-y",
            str(height),
            "-e",
            f"LEXITUI_HOME={home}",
            "-e",
            "TERM=xterm-256color",
            *(arg for key, value in (env or {}).items() for arg in ("-e", f"{key}={value}")),
            command,
        )

    def _tmux(self, *args: str) -> str:
        env = {k: v for k, v in os.environ.items() if k != "TMUX"}
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=30,
        )
        return result.stdout

    def send(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.name, *keys)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", self.name, "-l", text)

    def tmux(self, *args: str) -> str:
        """Any tmux command against this session's server (options, titles, buffers)."""
        return self._tmux(*args)

    def pane_title(self) -> str:
        return self._tmux("display-message", "-p", "-t", self.name, "#{pane_title}").strip()

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.name)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen shows:\n{self.screen()}")

    def wait_exit(self, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exit_file.exists() and self.exit_file.read_text().strip():
                return int(self.exit_file.read_text())
            time.sleep(0.1)
        raise AssertionError(f"lexitui did not exit; the screen shows:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)

"""lexitui in a real terminal: switch through every area, chat with the starter, quit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lexitui.areas import AREAS
from tests.home_config import closed_address

from .tmux import TmuxSession

pytestmark = [pytest.mark.e2e, pytest.mark.engine]

if shutil.which("tmux") is None:  # the README lists tmux as a prerequisite
    pytest.fail("tmux is required for the end-to-end tests", pytrace=False)


@pytest.fixture(params=[(80, 24), (160, 48)], ids=["80x24", "160x48"])
def term(request: pytest.FixtureRequest, lexitui_home: Path) -> Iterator[TmuxSession]:
    width, height = request.param
    session = TmuxSession(width, height, lexitui_home)
    try:
        yield session
    finally:
        session.close()


def test_every_area_chat_and_quit(term: TmuxSession, lexitui_home: Path) -> None:
    home = lexitui_home
    term.wait_for("lexitui · Dashboard")
    for area in AREAS:
        term.send(area.key)
        term.wait_for(f"lexitui · {area.title}")

    term.send("6")
    term.wait_for("smollm2-135m-instruct-q4_1")
    term.send("Enter")
    term.wait_for("Loaded smollm2-135m-instruct-q4_1", timeout=60)
    term.type("Say hi")
    term.send("Enter")
    shown = term.wait_for("finish:", timeout=60)  # the figures stream live; this ends them
    assert "tok/s" in shown and "TTFT" in shown

    term.send("Escape")  # leave the input: the conversation has the focus, keys are commands
    time.sleep(0.3)
    term.send("Home")  # a long answer scrolls the question away on a small terminal
    term.wait_for("You: Say hi")

    # Another shell sees the model this lexitui loaded.
    env = {**os.environ, "LEXITUI_HOME": str(home)}
    listed = subprocess.run(
        [sys.executable, "-m", "lexitui", "ps", "--json"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert [r["model_id"] for r in json.loads(listed.stdout)] == ["smollm2-135m-instruct-q4_1"]
    backends = subprocess.run(
        [sys.executable, "-m", "lexitui", "backends", "--json"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    rows = {r["name"]: r for r in json.loads(backends.stdout)}
    assert f"not found at {closed_address()}" in rows["ollama"]["reason"]
    term.send("q")
    assert term.wait_exit() == 0


def test_a_16_colour_console_without_colour(lexitui_home: Path) -> None:
    """TERM=linux (16 colours) with NO_COLOR set: every area still reads, quit still works."""
    session = TmuxSession(80, 24, lexitui_home, {"TERM": "linux", "NO_COLOR": "1"})
    try:
        session.wait_for("lexitui · Dashboard")
        # The console font has no rounded corners: the panels are framed in ASCII.
        shown = session.wait_for("Machine")
        assert "+-" in shown and not set("╭╮╰╯") & set(shown)
        for area in AREAS:
            session.send(area.key)
            shown = session.wait_for(f"lexitui · {area.title}")
            assert not set("╭╮╰╯") & set(shown), area.title
        session.send("q")
        assert session.wait_exit() == 0
    finally:
        session.close()

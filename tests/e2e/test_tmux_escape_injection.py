"""A hostile Hub repo on Discover, in a real terminal: the window title, the clipboard and the
screen stay as they were, and the attack shows up as text."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.ui.hostile_hub import hostile_repos

from .hub_thread import hub_in_thread
from .tmux import TmuxSession

pytestmark = [pytest.mark.e2e]

if shutil.which("tmux") is None:  # the README lists tmux as a prerequisite
    pytest.fail("tmux is required for the end-to-end tests", pytrace=False)

TITLE = "title-before-discover"


def test_hostile_repo_leaves_title_clipboard_and_screen_intact(lexitui_home: Path) -> None:
    with hub_in_thread(hostile_repos()) as hub_url:
        term = TmuxSession(160, 48, lexitui_home, env={"HF_ENDPOINT": hub_url})
        try:
            # Let programs set the title and the clipboard, as many users' tmux does.
            term.tmux("set-option", "-g", "set-clipboard", "on")
            term.tmux("set-option", "-g", "allow-rename", "on")
            term.wait_for("lexitui · Dashboard")
            term.tmux("select-pane", "-t", term.name, "-T", TITLE)
            term.send("4")
            shown = term.wait_for("[b]HUBID[/b][$accent]")
            assert "\\x1b]0;PWNED" in shown  # the escape is shown as text
            term.send("Down")  # the repo with the hostile card, tags and file names
            shown = term.wait_for("[b]DESCRIPTION[/b][$accent]")
            term.send("Up")
            shown = term.wait_for("evil-org/[b]HUBID")
            assert term.pane_title() == TITLE
            assert "lexitui · Discover" in shown.splitlines()[0]  # the screen was not wiped
            assert "Hostile-Card-GGUF" in shown
            assert "? Help  q Quit" in shown.splitlines()[-1]  # the footer is where it was
            buffers = term.tmux("list-buffers", "-F", "#{buffer_sample}")
            assert "pwned" not in buffers.lower()
            term.send("q")
            assert term.wait_exit() == 0
        finally:
            term.close()

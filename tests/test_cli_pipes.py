"""A closed stdout (``lexitui … | head``) ends every command quietly: no traceback, no noise.

The pipe's read end is closed before the command starts, so every write it makes fails with
EPIPE - the worst case of ``head`` having read its line and gone, with no race in the test.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lexitui.storage.starter import STARTER_ID

COMMANDS = [
    ("backends", "--json"),
    ("hw",),
    ("hw", "--json"),
    ("ls",),
    ("ls", "--json"),
    ("fit", STARTER_ID, "--json"),
    ("providers", "--json"),
    ("usage",),
    ("--help",),
    ("--version",),
]


def run_into_a_closed_pipe(*args: str) -> subprocess.CompletedProcess[str]:
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read: every write gets EPIPE
    try:
        return subprocess.run(
            [sys.executable, "-m", "lexitui", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env=os.environ.copy(),
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_closed_stdout_ends_the_command_quietly(args: tuple[str, ...]) -> None:
    result = run_into_a_closed_pipe(*args)
    assert result.stderr == ""
    assert result.returncode in (0, 1)

"""``lexitui unload`` when nothing matches: a sentence that reads right, and a non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys


def unload(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lexitui", "unload", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )


def test_unload_all_with_nothing_loaded_says_so_in_plain_words() -> None:
    result = unload("--all")
    assert result.returncode == 1
    assert result.stderr == "lexitui: no model is loaded (see `lexitui ps`)\n"


def test_unload_of_a_model_that_is_not_loaded_names_it() -> None:
    result = unload("some-model")
    assert result.returncode == 1
    assert result.stderr == "lexitui: some-model is not loaded (see `lexitui ps`)\n"

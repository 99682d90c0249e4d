"""What a command imports: ``--version`` and ``ls`` start in a fraction of the TUI's imports.

Each command runs in a fresh interpreter (``lexitui.cli.main``, as the ``lexitui`` script runs
it), which then reports which of the heavy packages had been loaded. Speed itself is measured in
bench/bench_startup.py; these tests keep the import paths from growing back.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys

import pytest

HEAVY = ("textual", "reactivex", "httpx", "aiosqlite", "numpy", "gguf", "genai_prices", "rich")

REPORT_IMPORTS = f"""
import json, sys
from lexitui.cli import main
sys.argv = ["lexitui", *sys.argv[1:]]
try:
    code = main()
except SystemExit as exit:
    code = exit.code
loaded = [name for name in {HEAVY!r} if name in sys.modules]
print(json.dumps({{"code": code, "loaded": loaded}}), file=sys.stderr)
"""


def heavy_imports(*args: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", REPORT_IMPORTS, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), result.stderr
    loaded: list[str] = report["loaded"]
    return loaded


def test_version_imports_none_of_the_app() -> None:
    loaded = heavy_imports("--version")
    assert not {"textual", "reactivex", "httpx", "aiosqlite"} & set(loaded), loaded


def test_ls_imports_only_the_store() -> None:
    loaded = heavy_imports("ls")
    assert not {"textual", "numpy", "gguf", "genai_prices", "httpx", "reactivex"} & set(loaded)
    assert "aiosqlite" in loaded  # it did read the store


def test_the_command_table_names_what_each_module_adds() -> None:
    """A command missing from the table could not be run; one in the wrong row would fail."""
    from lexitui.cli import COMMAND_MODULES

    for module_name, names in COMMAND_MODULES.items():
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module_name).add_parser(sub)
        assert tuple(sub.choices) == names, module_name


@pytest.mark.parametrize("command", ["route", "usage", "gguf", "rm"])
def test_each_command_finds_its_module(command: str) -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "lexitui", command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert help_text.returncode == 0, help_text.stderr
    assert help_text.stdout.startswith(f"usage: lexitui {command}")

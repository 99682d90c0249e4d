"""Every package outside the UI layer is covered by the "services never import textual" contract.

import-linter only checks the modules a contract names, so a new area package that nobody adds
to the list would silently escape it; this test makes that omission fail.
"""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import lexitui

UI_LAYER = {"lexitui.app", "lexitui.ui", "lexitui.__main__"}


def test_every_non_ui_module_is_in_the_contract() -> None:
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    contracts = tomllib.loads(pyproject.read_text())["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c["name"] == "Services never import textual"]
    covered = set(contract["source_modules"])
    top_level = {f"lexitui.{m.name}" for m in pkgutil.iter_modules(lexitui.__path__)}
    assert top_level - UI_LAYER <= covered, sorted(top_level - UI_LAYER - covered)
    assert "textual" in contract["forbidden_modules"]

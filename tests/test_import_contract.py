"""Every package outside the UI layer is covered by the "services never import textual" contract.

import-linter only checks the modules a contract names, so a new area package that nobody adds
to the list would silently escape it; this test makes that omission fail.
"""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import lexitui

# The UI itself, and the entry points that start it (``lexitui`` with no command opens the TUI).
UI_LAYER = {"lexitui.ui", "lexitui.__main__", "lexitui.cli"}


def contract(name: str) -> dict[str, object]:
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    contracts = tomllib.loads(pyproject.read_text())["tool"]["importlinter"]["contracts"]
    (found,) = [c for c in contracts if c["name"] == name]
    return dict(found)


def top_level_modules() -> set[str]:
    return {f"lexitui.{m.name}" for m in pkgutil.iter_modules(lexitui.__path__)}


def test_every_non_ui_module_is_in_the_contract() -> None:
    forbidden = contract("Services never import textual")
    covered = set(forbidden["source_modules"])  # type: ignore[call-overload]
    top_level = top_level_modules()
    assert top_level - UI_LAYER <= covered, sorted(top_level - UI_LAYER - covered)
    assert "textual" in forbidden["forbidden_modules"]  # type: ignore[operator]
    assert forbidden["allow_indirect_imports"] is False


def test_every_module_has_its_layer() -> None:
    """A new top-level module must be placed in the layers, or nothing would keep it in order."""
    layers = contract("Layers")["layers"]
    placed = {
        name.strip()
        for layer in layers  # type: ignore[attr-defined]
        for name in str(layer).split("|")
    }
    assert top_level_modules() <= placed, sorted(top_level_modules() - placed)

"""Finds the shipped ``.tcss`` files: inside the wheel, or the repository's ``styles/``."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]


def style(name: str) -> Path:
    for folder in (_PACKAGE / "styles", _PACKAGE.parent / "styles"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"style sheet {name} is missing from the installation")

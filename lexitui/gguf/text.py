"""GGUF text is shown through the one sanitiser every external string uses (G7)."""

from __future__ import annotations

from lexitui.domain.text import ELLIPSIS, safe_text

__all__ = ["ELLIPSIS", "safe_text"]

"""How the screens show text from outside: always as text, never as markup or terminal controls.

Registry cards, file names, GGUF strings, backend answers and engine logs pass the core's one
sanitiser (``lexitui.domain.text``) here, then reach a widget in one of two forms:

- ``plain``: a Rich ``Text`` that is never parsed as markup (a DataTable cell, a Static's whole
  content). Prefer it.
- ``markup_safe``: a piece to put inside a markup string we write ourselves. Rich's ``escape``
  is not enough for that: Textual's markup also reads ``[$variable]`` tags, so every ``[`` is
  escaped here, which both parsers read as a literal bracket.

``ControlCharacterFilter`` is the last line of defence under both: whatever a widget renders, no
C0/C1 control, DEL or bidi control in a line's text ever reaches the terminal.
"""

from __future__ import annotations

import re

from rich.segment import Segment
from rich.text import Text
from textual.color import Color
from textual.filter import LineFilter

from lexitui.domain.text import TERMINAL_CONTROLS, safe_lines, safe_text

_BRACKET = re.compile(r"(\\*)\[")


def escape_markup(text: str) -> str:
    """``text`` with every ``[`` escaped (and the backslashes before it doubled)."""
    return _BRACKET.sub(lambda m: m.group(1) * 2 + "\\[", text)


def markup_safe(text: str, limit: int = 200) -> str:
    """Outside text made safe to embed in Rich or Textual markup: one line, controls visible."""
    return escape_markup(safe_text(text, limit))


def plain(text: str, limit: int = 200, style: str = "") -> Text:
    """Outside text as one plain line that no widget parses as markup."""
    return Text(safe_text(text, limit), style=style, end="")


def plain_lines(text: str, style: str = "") -> Text:
    """Outside multi-line text (a log, an answer) as plain text, line breaks kept."""
    return Text(safe_lines(text), style=style, end="")


class ControlCharacterFilter(LineFilter):
    """Drops terminal control characters from every rendered line, and links that carry them.

    They are zero cells wide to Rich, so dropping them keeps every line's width. Text that went
    through ``plain``/``markup_safe`` never has any: this catches a field a screen forgot.
    """

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        if not any(_unsafe(segment) for segment in segments):
            return segments
        return [_cleaned(segment) if _unsafe(segment) else segment for segment in segments]


def _unsafe(segment: Segment) -> bool:
    text, style, control = segment
    if control is not None:
        return False  # cursor moves made by the renderer itself, not text
    link = style.link if style is not None else None
    return TERMINAL_CONTROLS.search(text) is not None or (
        link is not None and TERMINAL_CONTROLS.search(link) is not None
    )


def _cleaned(segment: Segment) -> Segment:
    text, style, _ = segment
    if style is not None and style.link is not None and TERMINAL_CONTROLS.search(style.link):
        style = style.update_link(None)
    return Segment(TERMINAL_CONTROLS.sub("", text), style)

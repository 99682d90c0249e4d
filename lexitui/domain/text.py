"""The one way text from outside is made safe to show (checklist T1 and G7).

Model ids, cards and file names from a registry, GGUF header strings, backend answers, engine
logs, cloud error bodies and file names on disk are chosen by someone else. Printed raw, an ESC
byte starts a terminal control sequence (retitle the window, wipe the screen, write the
clipboard), a C1 byte does the same on terminals that read 8-bit controls, and bidi overrides
reorder what the user sees ("Trojan Source"). Every such string goes through one of the functions
here before a CLI line or a widget shows it, so those characters appear as visible escapes
(``\\x1b``, ``\\u202e``) instead of acting. Markup (Rich's ``[bold]``) is the UI's concern: its
widget layer shows these results as plain text, never as markup.
"""

from __future__ import annotations

import re
import unicodedata

ELLIPSIS = "…"

# Format characters that join letters and emoji (Persian, Indic scripts, family emoji): they
# neither move the cursor nor reorder text, so they stay.
_JOINERS = frozenset("\u200c\u200d")
# Control (C0, DEL, C1), format (bidi, zero-width, BOM), line/paragraph separator, surrogate.
_ESCAPED_CATEGORIES = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs"))
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

# The characters a terminal acts on: C0 and C1 controls, DEL, and the bidi controls and
# separators that reorder or break lines. Nothing in this class may reach a terminal raw; the
# UI's last line of defence drops them from every rendered line.
TERMINAL_CONTROLS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _visible(ch: str, keep: str) -> str:
    if ch in keep or ch.isprintable() or ch in _JOINERS:
        return ch
    if unicodedata.category(ch) not in _ESCAPED_CATEGORIES:
        return ch  # a space other than " ", a private-use or unassigned code point
    code = ord(ch)
    return _SHORT.get(ch) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def visible_controls(text: str, keep: str = "") -> str:
    """``text`` with every control, format and separator character written as an escape.

    Characters in ``keep`` (e.g. ``"\\n\\t"`` for multi-line text) stay as they are.
    """
    if text.isprintable():  # the common case: nothing to do
        return text
    return "".join(_visible(ch, keep) for ch in text)


def safe_text(text: str, limit: int = 200) -> str:
    """One line: ``text`` with control characters shown as escapes, cut to about ``limit``.

    The result never holds a C0/C1 control, DEL, bidi control or line separator; it is at most
    ``limit`` characters plus one ``…`` that marks a cut.
    """
    if len(text) <= limit and text.isprintable():
        return text
    escaped = visible_controls(text[:limit])
    if len(escaped) > limit or len(text) > limit:
        return escaped[:limit] + ELLIPSIS
    return escaped


def clean_text(text: str, limit: int = 300) -> str:
    """One line for a message (an error detail): like ``safe_text``, trimmed, ``limit`` at most
    including the ``…`` that marks a cut."""
    cleaned = visible_controls(text).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + ELLIPSIS


def safe_lines(text: str) -> str:
    """Multi-line text (a model's answer, a log): line breaks and tabs kept, carriage returns
    dropped (a bare one would overwrite the line), every other control shown as an escape."""
    return visible_controls(text.replace("\r", ""), keep="\n\t")

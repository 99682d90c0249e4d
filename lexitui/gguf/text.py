"""Make text read from a GGUF file safe to put on a terminal (checklist G7).

Model names, chat templates and tensor names are chosen by whoever made the file. Printed raw, an
ESC byte starts a terminal control sequence (retitle the window, move the cursor, hide text), and
bidi overrides reorder what the user sees. Every piece of file text we show goes through
``safe_text`` so such characters appear as visible escapes instead of acting.
"""

from __future__ import annotations


def _escape_table() -> dict[int, str]:
    table = {code: f"\\x{code:02x}" for code in range(0x20)}  # C0, including ESC (\x1b)
    table.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})
    table.update({code: f"\\x{code:02x}" for code in range(0x7F, 0xA0)})  # DEL and C1 (CSI...)
    # Bidi marks, embeddings, overrides and isolates ("Trojan Source"), and the Unicode
    # line/paragraph separators that some terminals treat as newlines.
    invisible = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
    table.update({code: f"\\u{code:04x}" for code in [*invisible, 0x2028, 0x2029]})
    return table


_ESCAPES = _escape_table()
ELLIPSIS = "…"


def safe_text(text: str, limit: int = 200) -> str:
    """``text`` with control characters shown as escapes, cut to about ``limit`` characters.

    The result never holds a C0/C1 control, DEL or bidi control character; it is at most
    ``limit`` characters plus one ``…`` that marks a cut.
    """
    if len(text) <= limit and text.isprintable():  # the common case: nothing to do
        return text
    escaped = text[:limit].translate(_ESCAPES)
    if len(escaped) > limit or len(text) > limit:
        return escaped[:limit] + ELLIPSIS
    return escaped

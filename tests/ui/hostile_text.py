"""A payload of everything hostile text can carry, and checks on what reaches the terminal.

``hostile(tag)`` starts with Rich and Textual markup around ``tag`` (so a screen that parsed it
would show the tag bold and lose the brackets), then carries CSI, OSC 0/8/52, DCS, C1 controls and
bidi overrides. ``terminal_output`` is the exact text Textual would write for the current screen;
``screen_text`` is what the user sees on it.
"""

from __future__ import annotations

import re

from textual.app import App

ATTACK = (
    "\x1b]0;PWNED\x07"  # OSC 0: retitle the window
    "\x1b[2J"  # CSI: wipe the screen
    "\x1b]52;c;cHduZWQ=\x07"  # OSC 52: write the clipboard
    "\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\"  # OSC 8: a hidden hyperlink
    "\x1bPq#0;2;0;0;0\x1b\\"  # DCS (sixel)
    "\x9b2J\x9d0;PWNED\x9c"  # C1 CSI and OSC, 8-bit forms
    "\u202eRTL\u2066"  # bidi override and isolate
)


def hostile(tag: str) -> str:
    """Markup around ``tag`` (literal on a safe screen), then every control sequence."""
    return f"[b]{tag}[/b][$accent]{ATTACK}"


def hostile_name(tag: str) -> str:
    """The part of ``hostile`` a file name can carry (no C0 control, ``:`` or backslash)."""
    return f"[b]{tag}[/b][$accent]\x9b2J\x9d0;PWNED\x9c\u202eRTL\u2066"


def hostile_file_name(tag: str) -> str:
    """A file name on disk (no "/") with markup, C1 controls and bidi overrides."""
    return f"[$accent][b]{tag}\x9b2J\x9d0;PWNED\x9c\u202eRTL\u2066"


def shown_file_name(tag: str) -> str:
    """What a safe screen shows of ``hostile_file_name(tag)``."""
    return f"[$accent][b]{tag}\\x9b2J\\x9d0;PWNED"


def shown_tag(tag: str) -> str:
    """What a safe screen shows of ``hostile(tag)``'s start: both kinds of tag, as text."""
    return f"[b]{tag}[/b][$"


# What Textual itself writes: colours and styles (SGR) and cursor moves. Nothing else may pass.
_RENDERER_SEQUENCES = re.compile(r"\x1b\[[0-9;]*m|\x1b\[\d+;\d+H")
_FORBIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _screen_update(app: App[object]) -> list[list[object]]:
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    assert update is not None
    return update.strips  # type: ignore[attr-defined, no-any-return]


def terminal_output(app: App[object]) -> str:
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    return update.render_segments(app.console)  # type: ignore[union-attr]


def screen_text(app: App[object]) -> str:
    return "\n".join(
        "".join(strip.text for strip in line)  # type: ignore[attr-defined]
        for line in _screen_update(app)
    )


def assert_terminal_safe(app: App[object]) -> None:
    """The bytes for the whole screen hold no control sequence but Textual's own."""
    output = terminal_output(app)
    leftover = _RENDERER_SEQUENCES.sub("", output)
    bad = _FORBIDDEN.search(leftover)
    if bad is not None:
        near = leftover[max(0, bad.start() - 40) : bad.end() + 40]
        raise AssertionError(f"control character {bad.group()!r} reaches the terminal: {near!r}")
    assert "\x1b" not in leftover
    assert "PWNED\x07" not in output and "evil.example" not in _links(output)


def _links(output: str) -> str:
    return " ".join(re.findall("\x1b\\]8;[^\x1b\x07]*", output))


def assert_shown_as_text(app: App[object], *tags: str) -> None:
    """Each field's markup is on screen as text (its brackets kept), never interpreted, and its
    control characters as visible escapes."""
    text = screen_text(app)
    missing = [tag for tag in tags if shown_tag(tag) not in text]
    assert not missing, f"{missing} not shown literally on:\n{text}"
    # Control characters are shown as escapes where a field is sanitised: an OSC without its
    # visible ESC (raw, or dropped by the last-line filter) is a field that skipped the sanitiser.
    dropped = re.search(r"(?<!\\x1b)\]0;PWNED", text)
    assert dropped is None, f"a control character is not shown as an escape on:\n{text}"

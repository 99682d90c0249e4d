"""The one sanitising path: core text functions, the markup helpers and the last-line filter."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.content import Content

from lexitui.config import Paths
from lexitui.domain.text import clean_text, safe_lines, safe_text
from lexitui.services import Services
from lexitui.ui.app import LexituiApp
from lexitui.ui.text import ControlCharacterFilter, markup_safe, plain, plain_lines
from tests.ui.hostile_text import ATTACK, hostile


def test_every_external_text_function_escapes_the_attack() -> None:
    for shown in (safe_text(ATTACK), clean_text(ATTACK), safe_lines(ATTACK)):
        assert "\\x1b]0;PWNED\\x07" in shown and "\\x9b2J" in shown and "\\u202e" in shown
        assert shown.isprintable()


def test_multiline_text_keeps_its_lines_and_tabs_only() -> None:
    assert safe_lines("a\r\n\tb\x1b[2J\u2028") == "a\n\tb\\x1b[2J\\u2028"


def test_joiners_stay_so_emoji_and_scripts_read_right() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    family = f"{family} {persian}"
    assert safe_text(family) == family and clean_text(family) == family


def test_markup_from_outside_is_text_to_both_markup_parsers() -> None:
    text = "[b]x[/b] [$accent]y[/] [@click=app.quit]z[/] \\[b]w [link=http://e]l[/link]\\"
    safe = markup_safe(text)
    for parsed in (Content.from_markup(safe).plain, Text.from_markup(safe).plain):
        assert "[b]x[/b]" in parsed and "[$accent]y[/]" in parsed and "[@click=app.quit]" in parsed
        assert "[link=http://e]" in parsed
    assert Content.from_markup(safe).spans == [] and Text.from_markup(safe).spans == []


def test_plain_is_never_markup() -> None:
    assert plain(hostile("T")).plain.startswith("[b]T[/b][$accent]\\x1b]0;")
    assert plain_lines("[b]a\nb").plain == "[b]a\nb"


def test_the_last_line_filter_drops_controls_and_keeps_widths() -> None:
    linked = Style(link="http://e\x1b]0;x\x07")
    line = [Segment(f"a{ATTACK}b", Style(bold=True)), Segment("ok", linked), Segment("plain")]
    out = ControlCharacterFilter().apply(line, Color(0, 0, 0))
    assert "".join(s.text for s in out) == (
        "a]0;PWNED[2J]52;c;cHduZWQ=]8;;http://evil.example/\\link]8;;\\Pq#0;2;0;0;0\\2J0;PWNEDRTLb"
        "okplain"
    )
    assert out[0].style == Style(bold=True) and out[1].style is not None
    assert out[1].style.link is None  # a link carrying controls is dropped, its text kept
    assert sum(s.cell_length for s in out) == sum(s.cell_length for s in line)
    clean = [Segment("nothing to do")]
    assert ControlCharacterFilter().apply(clean, Color(0, 0, 0)) is clean


def test_the_app_filters_every_line(paths: Paths) -> None:
    app = LexituiApp(Services.build(paths))
    assert any(isinstance(f, ControlCharacterFilter) for f in app.get_line_filters())

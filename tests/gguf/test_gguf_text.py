"""Checklist G7: text from a GGUF file never reaches the terminal with control characters."""

from __future__ import annotations

import json

import pytest

from lexitui.gguf import GgufError, parse_header, safe_text
from tests.gguf.craft import STRING, BytesSource, Crafted, kv, kv_array, tensor_info

HOSTILE = "evil\x1b]0;owned\x07\x1b[2J\r\n\t\x7f\x9b31m\u202eexe.txt\u2028"


def test_safe_text_escapes_every_control_character() -> None:
    shown = safe_text(HOSTILE)
    assert shown == ("evil\\x1b]0;owned\\x07\\x1b[2J\\r\\n\\t\\x7f\\x9b31m\\u202eexe.txt\\u2028")
    assert all(ch.isprintable() for ch in shown)


def test_safe_text_keeps_ordinary_text() -> None:
    assert safe_text("SmolLM2 135M — Ünïcödé 模型") == "SmolLM2 135M — Ünïcödé 模型"


def test_safe_text_truncates() -> None:
    assert safe_text("a" * 300, limit=10) == "a" * 10 + "…"
    assert safe_text("\x1b" * 10, limit=8) == "\\x1b\\x1b…"
    assert safe_text("abc", limit=3) == "abc"


def test_hostile_values_are_kept_but_json_escapes_them() -> None:
    crafted = Crafted(
        [
            kv("general.name", STRING, HOSTILE),
            kv("general.architecture", STRING, "x\x1b[1m"),
            kv_array("general.tags", STRING, [HOSTILE]),
        ],
        [tensor_info("blk.0.w", (8,))],
        data_bytes=32,
    )
    header = parse_header(BytesSource(bytes(crafted)))
    assert header.name == HOSTILE  # the record keeps the file's bytes as they are
    text = json.dumps(header.to_json(), ensure_ascii=False)
    for raw in ("\x1b", "\x07", "\x9b", "\u202e", "\u2028"):
        assert raw not in text
    assert header.to_json()["name"].startswith("evil\\x1b]0;owned")


def test_tensor_names_with_invisible_controls_are_refused() -> None:
    crafted = Crafted([], [tensor_info("blk.0.w\u202e", (8,))], data_bytes=32)
    with pytest.raises(GgufError, match=r"control characters: blk.0.w\\u202e"):
        parse_header(BytesSource(bytes(crafted)))

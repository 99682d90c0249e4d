"""Ollama model names and blob digests: Ollama's grammar, and our allowlists on top (P1/P2)."""

from __future__ import annotations

import pytest

from lexitui.discovery.ollama_names import (
    InvalidDigest,
    InvalidModelName,
    parse_digest,
    parse_ollama_name,
)


@pytest.mark.parametrize(
    ("text", "full", "short"),
    [
        ("llama3.2", "registry.ollama.ai/library/llama3.2:latest", "llama3.2:latest"),
        ("llama3.2:3b", "registry.ollama.ai/library/llama3.2:3b", "llama3.2:3b"),
        (
            "library/llama3.2:latest",
            "registry.ollama.ai/library/llama3.2:latest",
            "llama3.2:latest",
        ),
        ("someuser/model:tag", "registry.ollama.ai/someuser/model:tag", "someuser/model:tag"),
        ("Example.com:5000/ns/m:t", "example.com:5000/ns/m:t", "example.com:5000/ns/m:t"),
        (
            "qwen2.5:0.5b-instruct-q4_K_M",
            "registry.ollama.ai/library/qwen2.5:0.5b-instruct-q4_K_M",
            "qwen2.5:0.5b-instruct-q4_K_M",
        ),
    ],
)
def test_names_parse_with_ollamas_defaults(text: str, full: str, short: str) -> None:
    name = parse_ollama_name(text)
    assert (name.full, name.short) == (full, short)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "../etc/passwd",
        "llama3.2:../x",
        "a/b/c/d",
        "ns/skill/model:tag",
        "llama 3",
        "llama3.2:",
        ":3b",
        "a..b",
        "ns.dotted/model",
        "-model",
        "https://registry.ollama.ai/library/llama3.2",
        "llama3.2:\x1b[31mred",
        "m" * 81,
    ],
)
def test_bad_names_are_refused(text: str) -> None:
    with pytest.raises(InvalidModelName) as caught:
        parse_ollama_name(text)
    assert "\x1b" not in str(caught.value)  # shown escaped, never raw on the terminal (G7)


def test_digests_match_the_allowlist() -> None:
    hex_digest = "0123456789abcdef" * 4
    assert (
        parse_digest(f"sha256:{hex_digest}") == parse_digest(f"sha256-{hex_digest}") == hex_digest
    )
    for bad in (
        f"sha256:{hex_digest.upper()}",
        f"sha256:{hex_digest[:-1]}",
        f"sha512:{hex_digest}",
        f"sha256:{hex_digest}\n",
        None,
        7,
    ):
        with pytest.raises(InvalidDigest):
            parse_digest(bad)

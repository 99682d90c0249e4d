"""Every test home's config points the built-in backends at a loopback port nothing answers on.

A developer machine may run Ollama or LM Studio on their default ports; tests must not see them.
The port is bound (so nothing else can take it) but never listens, so every connection to it is
refused. ``lexitui serve`` does not listen on Ollama's port in tests (``ollama_port = false``),
and the Ollama library's website is looked for on the same closed port, never the real site.
Ollama is sent there by ``OLLAMA_HOST`` (set by the autouse fixture) rather than by the
config, so the tests that point ``OLLAMA_HOST`` at a fake Ollama still reach it. Tests that write
their own config keep these lines through ``write_test_config``.
"""

from __future__ import annotations

import socket
from pathlib import Path

from lexitui.backends.factory import MOVABLE_NAMES

_held: socket.socket | None = None


def closed_url() -> str:
    """``http://127.0.0.1:PORT`` of a port held for the whole test process, refusing connections."""
    global _held
    if _held is None:
        _held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        _held.bind(("127.0.0.1", 0))
    host, port = _held.getsockname()
    return f"http://{host}:{port}"


def closed_address() -> str:
    return closed_url().removeprefix("http://")


def base_backend_lines(text: str, url: str, names: frozenset[str]) -> list[str]:
    """The ``[backends]`` keys moving each named built-in, less any the given config sets."""
    return [
        f'"{name}.url" = "{url}"'
        for name in sorted(names)
        if f'"{name}.url"' not in text and f"{name}.url" not in text
    ]


def write_test_config(
    path: Path,
    text: str,
    *,
    url: str | None = None,
    names: frozenset[str] = MOVABLE_NAMES - {"ollama"},
) -> None:
    """Write ``text`` as the config file at ``path``, keeping the built-ins on the closed port
    (or on ``url``)."""
    lines = base_backend_lines(text, url or closed_url(), names)
    body = text.splitlines()
    if "[backends]" in body:
        at = body.index("[backends]") + 1
        body[at:at] = lines
    else:
        body += ["", "[backends]", *lines]
    if "ollama_port" not in text:
        # ``lexitui serve`` in a test must never take Ollama's port (11434) from a real one.
        if "[gateway]" in body:
            at = body.index("[gateway]") + 1
            body[at:at] = ["ollama_port = false"]
        else:
            body += ["", "[gateway]", "ollama_port = false"]
    if "[ollama_library]" not in body:
        body += ["", "[ollama_library]", f'url = "{closed_url()}"']
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # as private as lexitui makes it
    path.write_text("\n".join(body) + "\n", encoding="utf-8")

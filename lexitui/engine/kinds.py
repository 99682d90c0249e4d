"""The two kinds of engine and how each is started.

``embedded``: xllamacpp's llama.cpp in a child Python process (``embedded_main``). It comes with
lexitui, so it works on a fresh install; its wheel is usually a CPU build.
``llama-server``: llama.cpp's own server binary, found (in this order) where
``LEXITUI_LLAMA_SERVER`` or ``[runtime] llama_server`` names it, where ``lexitui engine build``
installed it (beside this Python), or on PATH. It is the way to a GPU build.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from lexitui.engine import embedded_main, llama_server
from lexitui.engine.errors import EngineError, EngineNotFound
from lexitui.engine.options import EngineOptions
from lexitui.engine.settings import EMBEDDED, LLAMA_SERVER, EngineSettings

BINARY_NAME = "llama-server"
RPC_BINARY_NAME = "ggml-rpc-server"  # llama.cpp's RPC worker, built beside llama-server


def installed_server() -> Path:
    """Where ``lexitui engine build`` installs llama-server: beside this environment's Python."""
    return Path(sys.prefix) / "bin" / BINARY_NAME


@dataclass(frozen=True)
class EngineKind:
    name: str  # EMBEDDED or LLAMA_SERVER
    binary: Path | None = None  # llama-server's program

    @property
    def label(self) -> str:
        """How the UI names it: "embedded llama.cpp" or "llama-server (PATH)"."""
        return "embedded llama.cpp" if self.binary is None else f"{self.name} ({self.binary})"

    @property
    def key_env(self) -> str:
        """The environment variable the engine reads its secret from."""
        return embedded_main.KEY_ENV if self.binary is None else llama_server.KEY_ENV

    @property
    def announces_ready(self) -> bool:
        """The embedded child prints one JSON line once it serves; llama-server is polled."""
        return self.binary is None

    def command(self, model: Path, port: int, options: EngineOptions) -> list[str]:
        if self.binary is None:
            if options.rpc_servers:
                raise EngineError(
                    "a model split over RPC workers runs on llama-server, not the embedded engine"
                )
            return [
                sys.executable,
                "-m",
                "lexitui.engine.embedded_main",
                "--model",
                str(model),
                f"--port={port}",
                *options.as_args(),
            ]
        return [str(self.binary), *llama_server.server_args(model, port, options)]


EMBEDDED_KIND = EngineKind(EMBEDDED)


def find_llama_server(settings: EngineSettings | None = None) -> Path | None:
    """The llama-server to use, or None when there is none. A binary the user named that is
    missing or not a program raises ``EngineNotFound``: silently using another would hide it."""
    chosen = settings or EngineSettings.load()
    if chosen.llama_server is not None:
        return _runnable(chosen.llama_server, chosen.named_by)
    built = installed_server()
    if built.is_file() and os.access(built, os.X_OK):
        return built
    on_path = shutil.which(BINARY_NAME)
    return Path(on_path) if on_path else None


def _runnable(path: Path, named_by: str) -> Path:
    if not path.exists():
        raise EngineNotFound(f"llama-server not found at {path} (named by {named_by})")
    if not path.is_file() or not os.access(path, os.X_OK):
        raise EngineNotFound(f"{path} is not a program it can run (named by {named_by})")
    return path


def llama_server_kind(settings: EngineSettings | None = None) -> EngineKind:
    """The llama-server engine; ``EngineNotFound`` says how to get one when there is none."""
    binary = find_llama_server(settings)
    if binary is None:
        raise EngineNotFound(
            "no llama-server found: put one on PATH, name it with LEXITUI_LLAMA_SERVER or "
            "[runtime] llama_server, or build one with `lexitui engine build`"
        )
    return EngineKind(LLAMA_SERVER, binary)

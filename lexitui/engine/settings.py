"""Which engine loads models, from ``[runtime]`` in config.toml and the environment.

```toml
[runtime]
engine = "auto"                 # "auto", "embedded" or "llama-server"
llama_server = "/opt/llama.cpp/build/bin/llama-server"   # a llama-server binary to use
```

``LEXITUI_ENGINE`` and ``LEXITUI_LLAMA_SERVER`` override them for one shell. "auto" picks the
engine that can use this machine's GPU (see ``select``), else the embedded one.
``LEXITUI_THREADS`` is the CPU thread count of loads that name none (else llama.cpp picks one per
physical core): on a machine whose cores other work shares, fewer threads than cores keep
llama.cpp's spinning threads from waiting on each other.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lexitui.config import ConfigError

AUTO = "auto"
EMBEDDED = "embedded"
LLAMA_SERVER = "llama-server"
ENGINE_NAMES = (AUTO, EMBEDDED, LLAMA_SERVER)
ENGINE_ENV = "LEXITUI_ENGINE"
SERVER_ENV = "LEXITUI_LLAMA_SERVER"
THREADS_ENV = "LEXITUI_THREADS"


@dataclass(frozen=True)
class EngineSettings:
    engine: str = AUTO
    llama_server: Path | None = None  # named by the user: must exist when named
    named_by: str = ""  # where ``llama_server`` came from, for error messages

    @classmethod
    def load(
        cls, config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
    ) -> EngineSettings:
        """The settings from ``config`` (read from the user's config file when None) and the
        environment."""
        env = os.environ if environ is None else environ
        if config is None:
            from lexitui.config import Paths, load_config

            config = load_config(Paths.from_env(dict(env)))
        section = config.get("runtime", {})
        if not isinstance(section, Mapping):
            raise ConfigError("[runtime] must be a table")
        engine = env.get(ENGINE_ENV) or section.get("engine", AUTO)
        check_engine_name(engine, ENGINE_ENV if env.get(ENGINE_ENV) else "[runtime] engine")
        if env.get(SERVER_ENV):
            return cls(engine, Path(env[SERVER_ENV]).expanduser(), SERVER_ENV)
        named = section.get("llama_server")
        if named is None:
            return cls(engine)
        if not isinstance(named, str) or not named.strip():
            raise ConfigError(f"[runtime] llama_server must be a path, not {named!r}")
        return cls(engine, Path(named).expanduser(), "[runtime] llama_server")


def check_engine_name(name: object, where: str) -> str:
    if name not in ENGINE_NAMES:
        raise ConfigError(f"{where} must be one of {', '.join(ENGINE_NAMES)}, not {name!r}")
    return str(name)


def default_threads(environ: Mapping[str, str] | None = None) -> int:
    """The thread count for a load that names none: ``LEXITUI_THREADS``, else 0 (the engine's
    choice)."""
    value = (os.environ if environ is None else environ).get(THREADS_ENV, "").strip()
    if not value:
        return 0
    if not value.isdigit() or not 0 < int(value) <= 4096:
        raise ConfigError(f"{THREADS_ENV} must be a whole number from 1 to 4096, not {value!r}")
    return int(value)

"""``[gateway]`` in config.toml: where ``lexitui serve`` listens (its own port and Ollama's), the
variable its key is read from, and how many connections it holds at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lexitui.backends.ollama_host import OLLAMA_PORT
from lexitui.config import ConfigError


@dataclass(frozen=True)
class GatewaySettings:
    host: str = "127.0.0.1"
    port: int = 8788
    api_key_env: str = "LEXITUI_GATEWAY_KEY"
    max_connections: int = 256
    # Also serve on Ollama's port, where Ollama tools look by default; None: only on ``port``.
    ollama_port: int | None = OLLAMA_PORT


def gateway_settings(table: dict[str, Any]) -> GatewaySettings:
    """``[gateway]`` of config.toml; a bad value is a ``ConfigError`` naming the key."""
    port = table.get("port", 8788)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"[gateway] port must be a whole number from 1 to 65535, not {port!r}")
    connections = table.get("max_connections", 256)
    if isinstance(connections, bool) or not isinstance(connections, int) or connections < 1:
        raise ConfigError(
            f"[gateway] max_connections must be a whole number >= 1, not {connections!r}"
        )
    return GatewaySettings(
        host=str(table.get("host", "127.0.0.1")),
        port=port,
        api_key_env=str(table.get("api_key_env", "LEXITUI_GATEWAY_KEY")),
        max_connections=connections,
        ollama_port=ollama_port(table.get("ollama_port", OLLAMA_PORT), "[gateway] ollama_port"),
    )


def ollama_port(value: object, where: str) -> int | None:
    """A port (0: any free one), or ``false`` / ``"off"`` for none."""
    if value is False or (isinstance(value, str) and value.strip().lower() in ("off", "false")):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 65536:
        raise ConfigError(
            f'{where} must be a port from 0 to 65535, or false / "off", not {value!r}'
        )
    return value

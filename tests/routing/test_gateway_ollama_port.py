"""``[gateway] ollama_port``: Ollama's port by default, any free one with 0, none when off."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from lexitui.backends.ollama_host import OLLAMA_PORT
from lexitui.config import ConfigError
from lexitui.routing.settings import RoutingSettings
from tests.home_config import write_test_config


def gateway(table: dict[str, object]) -> int | None:
    return RoutingSettings.from_config({"gateway": table}).gateway.ollama_port


def test_ollama_port_values() -> None:
    assert gateway({}) == OLLAMA_PORT == 11434
    assert gateway({"ollama_port": 0}) == 0
    assert gateway({"ollama_port": 11500}) == 11500
    assert gateway({"ollama_port": False}) is None
    assert gateway({"ollama_port": "off"}) is None
    for bad in (True, -1, 70000, "sometimes", 1.5):
        with pytest.raises(ConfigError, match="ollama_port"):
            gateway({"ollama_port": bad})


def test_test_homes_never_take_ollamas_port(tmp_path: Path) -> None:
    for text in ("", "[gateway]\nport = 9000\n"):
        path = tmp_path / "config.toml"
        write_test_config(path, text)
        config = tomllib.loads(path.read_text())
        assert RoutingSettings.from_config(config).gateway.ollama_port is None
    write_test_config(path, "[gateway]\nollama_port = 0\n")
    assert RoutingSettings.from_config(tomllib.loads(path.read_text())).gateway.ollama_port == 0

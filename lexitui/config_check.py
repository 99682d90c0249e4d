"""The config values every start checks before anything opens (one error line, no traceback).

``Services.build`` reads the same values; checking them first lets the TUI report a bad value
before the screen is taken over and lets ``lexitui ls`` refuse it without building the services.
"""

from __future__ import annotations

from typing import Any

from lexitui.config import Paths, load_config
from lexitui.discovery.registry_settings import registry_specs
from lexitui.fleet.host_settings import host_specs
from lexitui.hardware.settings import load_hardware_settings
from lexitui.runtime.settings import RuntimeSettings


def checked_config(paths: Paths) -> dict[str, Any]:
    """The config, its runtime, hardware, registry and host values checked; raises
    ``ConfigError``."""
    config = load_config(paths)
    RuntimeSettings.from_config(config)
    registry_specs(config)
    host_specs(config)
    load_hardware_settings(paths)
    return config

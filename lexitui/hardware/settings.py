"""The user's hardware settings: the ``[hardware]`` table of the config file.

Validation happens on load and before save, so a typo in the config file is reported with the key
and the accepted values instead of surfacing later as a strange recommendation. The roadmap's
"Hardware Settings UI" edits these through ``save_hardware_settings``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from lexitui.config import ConfigError, Paths, load_config, naming_file, save_config_section

SECTION = "hardware"
GPU_LAYER_WORDS = ("auto", "all", "none")


class HardwareSettingsError(ConfigError):
    """A hardware setting has a value lexitui cannot use; the message names the key (and the
    file, when the value came from one)."""


@dataclass(frozen=True)
class HardwareSettings:
    # GPU ids (``GpuInfo.id``, e.g. "nvidia:1") or UUIDs lexitui may use; empty means all.
    allowed_gpus: tuple[str, ...] = ()
    vram_headroom_mb: int = 1024  # kept free per GPU for the desktop, other apps, fragmentation
    ram_headroom_mb: int = 4096  # kept free for the OS and this app
    cpu_threads: int = 0  # 0 = let the engine pick (physical cores)
    gpu_layers_policy: str | int = "auto"  # "auto" | "all" | "none" | a layer count
    sample_interval_s: float = 2.0
    temp_alert_c: float = 85.0
    vram_low_percent: float = 10.0  # free VRAM under this share of total raises vram_low
    ram_low_percent: float = 10.0  # available RAM under this share of total raises ram_low
    history_size: int = 300  # samples kept per metric for sparklines (10 minutes at 2 s)

    def __post_init__(self) -> None:
        validate(self)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["allowed_gpus"] = list(self.allowed_gpus)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HardwareSettings:
        """Build from a config table; unknown keys are an error (they are usually typos)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise HardwareSettingsError(
                f"[{SECTION}] unknown key(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        values = dict(data)
        if "allowed_gpus" in values:
            gpus = values["allowed_gpus"]
            if isinstance(gpus, str) or not isinstance(gpus, (list, tuple)):
                raise HardwareSettingsError(
                    f"[{SECTION}] allowed_gpus must be a list of GPU ids, got {gpus!r}"
                )
            values["allowed_gpus"] = tuple(gpus)
        return cls(**values)

    def allows(self, gpu_id: str, uuid: str | None = None) -> bool:
        if not self.allowed_gpus:
            return True
        return gpu_id in self.allowed_gpus or (uuid is not None and uuid in self.allowed_gpus)

    @property
    def cpu_only(self) -> bool:
        return self.gpu_layers_policy == "none"


def _number(name: str, value: Any, *, low: float, high: float | None = None) -> None:
    # bool is an int in Python; "true" for a headroom is a mistake, not 1 MB.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise HardwareSettingsError(f"[{SECTION}] {name} must be a number, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise HardwareSettingsError(f"[{SECTION}] {name} must be {bound}, got {value!r}")


def _integer(name: str, value: Any, *, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise HardwareSettingsError(f"[{SECTION}] {name} must be a whole number, got {value!r}")
    _number(name, value, low=low, high=high)


def validate(s: HardwareSettings) -> None:
    for gpu in s.allowed_gpus:
        if not isinstance(gpu, str) or not gpu.strip():
            raise HardwareSettingsError(
                f'[{SECTION}] allowed_gpus entries must be GPU ids such as "nvidia:0", got {gpu!r}'
            )
    _integer("vram_headroom_mb", s.vram_headroom_mb, low=0, high=1024 * 1024)
    _integer("ram_headroom_mb", s.ram_headroom_mb, low=0, high=16 * 1024 * 1024)
    _integer("cpu_threads", s.cpu_threads, low=0, high=4096)
    policy = s.gpu_layers_policy
    if isinstance(policy, bool) or not (
        policy in GPU_LAYER_WORDS or (isinstance(policy, int) and 0 <= policy <= 1000)
    ):
        raise HardwareSettingsError(
            f'[{SECTION}] gpu_layers_policy must be "auto", "all", "none" or a layer count '
            f"0-1000, got {policy!r}"
        )
    _number("sample_interval_s", s.sample_interval_s, low=0.1, high=3600)
    _number("temp_alert_c", s.temp_alert_c, low=30, high=130)
    _number("vram_low_percent", s.vram_low_percent, low=0, high=100)
    _number("ram_low_percent", s.ram_low_percent, low=0, high=100)
    _integer("history_size", s.history_size, low=2, high=100_000)


def load_hardware_settings(paths: Paths) -> HardwareSettings:
    """The saved settings, defaults where the file says nothing; bad values raise clearly."""
    config = load_config(paths)
    with naming_file(config):
        table = config.get(SECTION, {})
        if not isinstance(table, dict):
            raise HardwareSettingsError(f"[{SECTION}] must be a table, got {table!r}")
        return HardwareSettings.from_dict(table)


def save_hardware_settings(paths: Paths, settings: HardwareSettings) -> None:
    validate(settings)
    save_config_section(paths, SECTION, settings.to_dict())

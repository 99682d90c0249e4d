"""The [hardware] config table: defaults, round trip through the TOML file, clear rejections."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lexitui.config import Paths, load_config
from lexitui.hardware.settings import (
    HardwareSettings,
    HardwareSettingsError,
    load_hardware_settings,
    save_hardware_settings,
)
from tests.home_config import write_test_config


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    monkeypatch.delenv("LEXITUI_CONFIG", raising=False)
    return Paths.from_env({"LEXITUI_HOME": str(tmp_path)})


def test_defaults_when_no_file(paths: Paths) -> None:
    settings = load_hardware_settings(paths)
    assert settings == HardwareSettings()
    assert settings.sample_interval_s == 2.0 and settings.gpu_layers_policy == "auto"
    assert settings.allows("nvidia:5")


def test_round_trip_keeps_other_sections(paths: Paths) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    write_test_config(paths.config_file, '[ui]\ntheme = "dark"\n')
    saved = HardwareSettings(
        allowed_gpus=("nvidia:0", "GPU-abc"),
        vram_headroom_mb=2048,
        gpu_layers_policy=33,
        temp_alert_c=80.5,
        sample_interval_s=0.5,
    )
    save_hardware_settings(paths, saved)
    assert load_hardware_settings(paths) == saved
    assert load_config(paths)["ui"] == {"theme": "dark"}
    assert saved.allows("nvidia:1", "GPU-abc") and not saved.allows("nvidia:1", "GPU-def")


def test_reads_hand_written_toml(paths: Paths) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    write_test_config(
        paths.config_file,
        '[hardware]\nallowed_gpus = ["amd:card1"]\ngpu_layers_policy = "none"\n'
        "ram_low_percent = 5\n",
    )
    settings = load_hardware_settings(paths)
    assert settings.allowed_gpus == ("amd:card1",) and settings.cpu_only
    assert settings.ram_low_percent == 5


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"vram_headroom_mb": -1}, "vram_headroom_mb must be between 0"),
        ({"ram_headroom_mb": "4G"}, "ram_headroom_mb must be a whole number"),
        ({"ram_headroom_mb": True}, "ram_headroom_mb must be a whole number"),
        ({"cpu_threads": 1.5}, "cpu_threads must be a whole number"),
        ({"gpu_layers_policy": "most"}, "gpu_layers_policy must be"),
        ({"gpu_layers_policy": -3}, "gpu_layers_policy must be"),
        ({"gpu_layers_policy": True}, "gpu_layers_policy must be"),
        ({"sample_interval_s": 0}, "sample_interval_s must be between 0.1"),
        ({"temp_alert_c": 500}, "temp_alert_c must be between 30 and 130"),
        ({"vram_low_percent": 101}, "vram_low_percent"),
        ({"allowed_gpus": "nvidia:0"}, "allowed_gpus must be a list"),
        ({"allowed_gpus": ["nvidia:0", ""]}, "allowed_gpus entries must be GPU ids"),
        ({"history_size": 1}, "history_size"),
        ({"vram_headrom_mb": 10}, "unknown key(s) vram_headrom_mb"),
    ],
)
def test_bad_values_rejected(table: dict[str, Any], words: str) -> None:
    with pytest.raises(HardwareSettingsError) as err:
        HardwareSettings.from_dict(table)
    assert words in str(err.value)
    assert str(err.value).startswith("[hardware]")
    assert isinstance(err.value, ValueError)


def test_bad_file_reported_on_load(paths: Paths) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    write_test_config(paths.config_file, "[hardware]\nsample_interval_s = -2\n")
    with pytest.raises(HardwareSettingsError, match="sample_interval_s"):
        load_hardware_settings(paths)
    write_test_config(paths.config_file, 'hardware = "fast"\n')
    with pytest.raises(HardwareSettingsError, match="must be a table"):
        load_hardware_settings(paths)


def test_constructor_validates_too() -> None:
    with pytest.raises(HardwareSettingsError):
        HardwareSettings(vram_headroom_mb=-5)

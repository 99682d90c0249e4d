"""Paths relocate under LEXITUI_HOME; the TOML config reads, writes and fails clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from lexitui.config import ConfigError, Paths, load_config, save_config_section
from tests.home_config import write_test_config


def test_every_location_lives_under_lexitui_home(lexitui_home: Path) -> None:
    paths = Paths.from_env()
    for folder in (paths.config_dir, paths.data_dir, paths.cache_dir, paths.models_dir):
        assert folder.is_relative_to(lexitui_home)
    assert paths.database.is_relative_to(lexitui_home)


def test_without_lexitui_home_platform_folders_are_used() -> None:
    paths = Paths.from_env({})
    assert paths.config_dir.name == "lexitui"
    assert paths.data_dir.name == "lexitui"


def test_folders_are_private(paths: Paths) -> None:
    paths.ensure()
    assert paths.data_dir.stat().st_mode & 0o777 == 0o700
    assert paths.config_dir.stat().st_mode & 0o777 == 0o700


def test_missing_config_is_empty(paths: Paths) -> None:
    paths.config_file.unlink()
    assert load_config(paths) == {}


def test_broken_config_names_the_file(paths: Paths) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    write_test_config(paths.config_file, "[keys\nbroken = ")
    with pytest.raises(ConfigError, match=r"config\.toml"):
        load_config(paths)


def test_saving_a_section_keeps_the_others(paths: Paths) -> None:
    save_config_section(paths, "keys", {"app.quit": "ctrl+q", "area.runtime": "c"})
    save_config_section(
        paths,
        "hardware",
        {
            "vram_headroom_mb": 512,
            "allowed_gpus": ["0", "1"],
            "enabled": True,
            "name": 'a "quoted" one',
        },
    )
    data = load_config(paths)
    assert data["keys"] == {"app.quit": "ctrl+q", "area.runtime": "c"}
    assert data["hardware"] == {
        "vram_headroom_mb": 512,
        "allowed_gpus": ["0", "1"],
        "enabled": True,
        "name": 'a "quoted" one',
    }


def test_saving_a_section_keeps_nested_tables_of_the_others(paths: Paths) -> None:
    """Routing's config is nested ([routing.tasks], [providers.NAME], inline tables): saving
    the hardware settings must neither fail on it nor lose any of it."""
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    write_test_config(
        paths.config_file,
        """
[routing]
strategy = "prefer_local"
[routing.tasks]
code_generation = "prefer_cloud"
[routing.chains]
chat = ["local", "openai"]

[providers.openai]
kind = "openai"
model = "gpt-4o-mini"

[providers.azure]
kind = "azure"
base_url = "https://example.invalid"
api_version = "2024-10-21"
deployments = { "gpt-4o" = "my deployment" }

[costs.prices."my-model"]
input_per_mtok = 0.5
""",
    )
    before = load_config(paths)
    save_config_section(paths, "hardware", {"vram_headroom_mb": 512})
    after = load_config(paths)
    assert after == {**before, "hardware": {"vram_headroom_mb": 512}}


def test_config_env_var_points_elsewhere(
    tmp_path: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other.toml"
    other.write_text('[keys]\n"app.help" = "h"\n', encoding="utf-8")
    monkeypatch.setenv("LEXITUI_CONFIG", str(other))
    assert load_config(paths) == {"keys": {"app.help": "h"}}

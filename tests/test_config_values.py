"""A bad value in the config (or the key file) is one error line that names the file, the key and
what is accepted: never a traceback, never a hang, never a value silently ignored."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lexitui.config import ConfigError, Paths, load_config, ollama_site_url
from lexitui.routing.settings import RoutingSettings
from lexitui.runtime.settings import RuntimeSettings
from tests.home_config import write_test_config

# (config.toml text, the command to run, words the error line must carry)
BAD_VALUES = [
    ("[runtime]\nmemory_budget_gb = 1e308\n", ["ls"], "[runtime] memory_budget_gb"),
    ("[runtime]\nmemory_budget_gb = nan\n", ["ls"], "[runtime] memory_budget_gb"),
    ("[runtime]\nauto_evict = 'yes'\n", ["ls"], "[runtime] auto_evict must be true or false"),
    ("[routing]\ndaily_budget_usd = nan\n", ["providers"], "[routing] daily_budget_usd"),
    ("[routing]\nmonthly_budget_usd = inf\n", ["usage"], "[routing] monthly_budget_usd"),
    ("[routing]\nlocal_timeout_s = inf\n", ["savings"], "[routing] local_timeout_s"),
    ("[routing]\nmax_tokens_for_local = 1e308\n", ["providers"], "[routing] max_tokens_for_local"),
    ("[huggingface]\ntoken = 5\n", ["ls"], "[huggingface] token must be a quoted string"),
    ("[huggingface]\ntoken = 5\n", ["pull", "org/repo"], "[huggingface] token"),
    ("[hardware]\ntemp_alert_c = nan\n", ["ls"], "[hardware] temp_alert_c"),
    ("[ollama_library]\nurl = 5\n", ["search", "--registry", "ollama"], "[ollama_library] url"),
    ("[ollama_library]\nurl = 'ftp://x'\n", ["ls"], "[ollama_library] url must be an http(s)"),
    ("[ollama_library]\nurl = 'https://'\n", ["ls"], "[ollama_library] url must name a host"),
]


def lexitui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lexitui", *args],
        capture_output=True,
        text=True,
        timeout=60,  # a failure after the store opened used to hang here
        env=os.environ.copy(),
    )


def write_config(paths: Paths, text: str) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    write_test_config(paths.config_file, text)


def assert_one_line_naming(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize(("text", "command", "key"), BAD_VALUES, ids=lambda v: str(v)[:30])
def test_a_bad_config_value_is_one_line_naming_file_and_key(
    paths: Paths, text: str, command: list[str], key: str
) -> None:
    write_config(paths, text)
    result = lexitui(*command)
    assert_one_line_naming(result, str(paths.config_file), key)


def test_a_key_file_that_is_not_toml_is_one_line(paths: Paths) -> None:
    write_config(paths, '[providers.openai]\nkind = "openai"\n')
    (paths.config_dir / "keys.toml").write_text("openai = sk-typed-without-quotes\n")
    result = lexitui("providers")
    assert_one_line_naming(result, str(paths.config_dir / "keys.toml"), "not valid TOML")
    assert "sk-typed-without-quotes" not in result.stderr


def test_a_key_that_is_not_a_string_is_refused_not_ignored(paths: Paths) -> None:
    write_config(paths, '[providers.openai]\nkind = "openai"\n')
    (paths.config_dir / "keys.toml").write_text("openai = 12345678\n")
    result = lexitui("providers")
    assert_one_line_naming(result, "keys.toml", "openai must be a quoted string")
    assert "12345678" not in result.stderr


def test_settings_errors_name_the_file_they_came_from(paths: Paths) -> None:
    write_config(paths, "[routing]\ncooldown_s = -1\n[runtime]\nretries = 1e308\n")
    config = load_config(paths)
    with pytest.raises(ConfigError) as routing:
        RoutingSettings.from_config(config)
    assert str(routing.value) == (
        f"{paths.config_file}: [routing] cooldown_s must be a number from 0 to 604800, not -1"
    )
    with pytest.raises(ConfigError) as runtime:
        RuntimeSettings.from_config(config)
    assert str(runtime.value).startswith(f"{paths.config_file}: [runtime] retries must be")


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"routing": {"fallback": "no"}}, "[routing] fallback must be true or false"),
        ({"routing": {"strategy": "fastest"}}, "[routing] strategy: unknown strategy"),
        ({"providers": {"x": {"quality": float("nan")}}}, "[providers.x] quality"),
        ({"providers": {"x": {"timeout_s": float("inf")}}}, "[providers.x] timeout_s"),
        ({"costs": {"cpu_watts": float("nan")}}, "[costs] cpu_watts"),
        ({"costs": {"electricity_usd_per_kwh": "lots"}}, "[costs] electricity_usd_per_kwh"),
        ({"gateway": {"port": 1e308}}, "[gateway] port must be a whole number"),
    ],
)
def test_routing_values_are_checked_with_their_key(table: dict[str, object], words: str) -> None:
    table.setdefault("providers", {})
    for provider in table["providers"].values():  # type: ignore[attr-defined]
        provider.setdefault("base_url", "http://127.0.0.1:1/v1")
    with pytest.raises(ConfigError) as caught:
        RoutingSettings.from_config(table)
    assert words in str(caught.value)


def test_good_values_still_load(paths: Paths) -> None:
    write_config(
        paths,
        "[runtime]\nmemory_budget_gb = 12.5\n[routing]\ndaily_budget_usd = 5\n"
        'monthly_budget_usd = "50.25"\n[huggingface]\ntoken = "hf_abc"\n',
    )
    config = load_config(paths)
    assert RuntimeSettings.from_config(config).memory_budget_bytes == int(12.5 * 1024**3)
    routing = RoutingSettings.from_config(config).routing
    assert str(routing.daily_cloud_budget) == "5" and str(routing.monthly_cloud_budget) == "50.25"


def test_the_ollama_library_site_is_ollama_com_unless_the_config_names_another() -> None:
    assert ollama_site_url({}) == "https://ollama.com"
    assert ollama_site_url({"ollama_library": {"url": "http://mirror.lan:8080/"}}) == (
        "http://mirror.lan:8080"
    )
    assert ollama_site_url({"ollama_library": {"url": False}}) is None  # browse no site
    with pytest.raises(ConfigError, match="url must be an http"):
        ollama_site_url({"ollama_library": {"url": True}})

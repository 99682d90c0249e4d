"""``[registries.NAME]`` read from the config: good tables become registries, each mistake one
clear line naming the table (and never quoting what might be a token)."""

from __future__ import annotations

import tomllib

import pytest

from lexitui.config import ConfigData, ConfigError, Paths
from lexitui.config_check import checked_config
from lexitui.discovery.registry_settings import RegistrySpec, registry_specs
from tests.home_config import write_test_config

SECRET = "hf_literalSecret0123456789abcdefgh"


def specs(text: str) -> list[RegistrySpec]:
    return registry_specs(ConfigData(tomllib.loads(text)))


def test_both_kinds_are_read_in_order() -> None:
    found = specs(
        """
[registries.corp]
kind = "huggingface"
url = "https://hub.corp.example/"
token_env = "CORP_HF_TOKEN"

[registries.mirror]
kind = "ollama"
url = "http://127.0.0.1:5000"
"""
    )
    assert found == [
        RegistrySpec("corp", "huggingface", "https://hub.corp.example", "CORP_HF_TOKEN"),
        RegistrySpec("mirror", "ollama", "http://127.0.0.1:5000"),
    ]


def test_the_token_is_read_from_the_variable_when_used() -> None:
    (spec,) = specs('[registries.corp]\nkind = "huggingface"\nurl = "http://h"\ntoken_env = "T"\n')
    assert spec.token({}) is None
    assert spec.token({"T": " abc "}) == "abc"


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ('kind = "artifactory"\nurl = "http://h"', 'kind must be "huggingface" or "ollama"'),
        ('url = "http://h"', "kind must be"),
        ('kind = "huggingface"', "needs url"),
        ('kind = "huggingface"\nurl = "ftp://h/models"', "must be an http(s) URL"),
        ('kind = "huggingface"\nurl = "not a url"', "must be an http(s) URL"),
        ('kind = "huggingface"\nurl = 8080', "url must be a quoted http(s) URL"),
        ('kind = "huggingface"\nurl = "http://127.0.0.1:0"', "port 0"),
        ('kind = "huggingface"\nurl = "http://127.0.0.1:70000"', "port that is not 1-65535"),
        ('kind = "huggingface"\nurl = "http://h"\nmirror = true', "no key 'mirror'"),
        ('kind = "ollama"\nurl = "http://h"\ntoken_env = "T"', "read without one"),
        ('kind = "huggingface"\nurl = "http://h"\ntoken_env = "not a name"', "must name"),
    ],
)
def test_a_bad_table_is_one_line_naming_it(table: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        specs(f"[registries.corp]\n{table}\n")
    message = str(caught.value)
    assert message.startswith("[registries.corp]") and says in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    "table",
    [
        f'kind = "huggingface"\nurl = "http://h"\ntoken = "{SECRET}"',
        f'kind = "huggingface"\nurl = "http://h"\ntoken_env = "{SECRET}"',
        f'kind = "huggingface"\nurl = "http://user:{SECRET}@h"',
    ],
    ids=["token", "token-in-token_env", "token-in-url"],
)
def test_a_token_written_in_the_file_is_refused_and_never_repeated(table: str) -> None:
    with pytest.raises(ConfigError) as caught:
        specs(f"[registries.corp]\n{table}\n")
    message = str(caught.value)
    assert SECRET not in message
    assert "token_env" in message


def test_bad_names_and_shapes() -> None:
    with pytest.raises(ConfigError, match="not a registry name"):
        specs('[registries."my corp"]\nkind = "huggingface"\nurl = "http://h"\n')
    with pytest.raises(ConfigError, match="names a built-in registry"):
        specs('[registries.Ollama]\nkind = "ollama"\nurl = "http://h"\n')
    with pytest.raises(ConfigError, match=r"\[registries\] must hold tables"):
        specs('registries = "corp"\n')
    with pytest.raises(ConfigError, match="must be a table"):
        specs('[registries]\ncorp = "http://h"\n')


def test_every_start_checks_them_and_names_the_file(paths: Paths) -> None:
    write_test_config(paths.config_file, '[registries.corp]\nkind = "hf"\nurl = "http://h"\n')
    with pytest.raises(ConfigError) as caught:
        checked_config(paths)
    assert str(caught.value).startswith(f"{paths.config_file}: [registries.corp] kind")

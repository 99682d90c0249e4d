"""``[hosts.NAME]`` and ``lexitui host add/remove``: each mistake is one line, keys stay out."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from lexitui.config import ConfigError, Paths
from lexitui.fleet.host_settings import HostSpec, host_specs


def lexitui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lexitui", *args], capture_output=True, text=True, timeout=60
    )


def test_hosts_are_read_in_order_with_defaults() -> None:
    config = {
        "hosts": {
            "gpu1": {"url": "http://10.0.0.5:8788/", "key_env": "GPU1_KEY"},
            "box": {"url": "http://10.0.0.6:8080", "kind": "llama-server"},
        }
    }
    assert host_specs(config) == [
        HostSpec("gpu1", "http://10.0.0.5:8788", "lexitui", "GPU1_KEY"),
        HostSpec("box", "http://10.0.0.6:8080", "llama-server", None),
    ]


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"url": "http://h:1", "key": "sk-secret"}, "never read from the config file"),
        ({"url": "http://h:1", "kind": "tgi"}, "kind must be one of"),
        ({}, "needs url"),
        ({"url": "ftp://h"}, "must be an http(s) URL"),
        ({"url": "http://user:pw@h:1"}, "must not hold a user or password"),
        ({"url": "http://h:1", "key_env": "sk-abc123"}, "must name an environment variable"),
        ({"url": "http://h:1", "colour": "red"}, "has no key 'colour'"),
        ({"url": "http://h:0"}, "port 0"),
    ],
)
def test_each_mistake_is_one_clear_line(table: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        host_specs({"hosts": {"gpu1": table}})
    message = str(caught.value)
    assert says in message and "[hosts.gpu1]" in message and "\n" not in message
    assert "secret" not in message and "sk-abc123" not in message and "pw" not in message


def test_host_add_and_remove_edit_the_config_file_without_the_key(lexitui_home: Path) -> None:
    config_file = Paths.from_env().config_file
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text('[routing]\ndefault_strategy = "prefer_local"\n', encoding="utf-8")
    added = lexitui("host", "add", "gpu1", "http://127.0.0.1:9001", "--key-env", "GPU1_KEY")
    assert added.returncode == 0, added.stderr
    lexitui("host", "add", "box", "http://127.0.0.1:9002", "--kind", "ollama")
    data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    assert data["hosts"] == {
        "gpu1": {"url": "http://127.0.0.1:9001", "key_env": "GPU1_KEY"},
        "box": {"url": "http://127.0.0.1:9002", "kind": "ollama"},
    }
    assert data["routing"] == {"default_strategy": "prefer_local"}  # the rest is kept

    again = lexitui("host", "add", "gpu1", "http://127.0.0.1:9003")
    assert again.returncode == 1 and "already exists" in again.stderr
    assert "Traceback" not in again.stderr and len(again.stderr.strip().splitlines()) == 1
    bad = lexitui("host", "add", "gpu2", "http://127.0.0.1:9004", "--key-env", "sk-live-key")
    assert bad.returncode == 1 and "sk-live-key" not in bad.stderr + config_file.read_text()

    removed = lexitui("host", "remove", "gpu1")
    assert removed.returncode == 0, removed.stderr
    data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    assert list(data["hosts"]) == ["box"]
    missing = lexitui("host", "remove", "gpu1")
    assert missing.returncode == 1 and "no host named 'gpu1'" in missing.stderr


def test_a_bad_host_table_stops_every_command_with_one_line(lexitui_home: Path) -> None:
    config_file = Paths.from_env().config_file
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text('[hosts.gpu1]\nurl = "http://h:1"\nkind = "tgi"\n', encoding="utf-8")
    result = lexitui("ls")
    assert result.returncode == 1 and "[hosts.gpu1] kind must be one of" in result.stderr
    assert "Traceback" not in result.stderr

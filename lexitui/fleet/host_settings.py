"""``[hosts.NAME]`` in the config: other machines this lexitui sends requests to.

A host is another ``lexitui serve`` (``kind = "lexitui"``, the default) or a bare engine
(``"llama-server"``, ``"vllm"``, ``"ollama"``) at ``url``. Its gateway key is read from the
environment variable ``key_env`` names, when it is used: a key written in the config file is
refused (config files get copied and shared). Every mistake is one ``ConfigError`` line naming
the table and key, never quoting a value that could be a secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lexitui.config import ConfigError, checked_url, naming_file

LEXITUI = "lexitui"
LLAMA_SERVER = "llama-server"
VLLM = "vllm"
OLLAMA = "ollama"
KINDS = (LEXITUI, LLAMA_SERVER, VLLM, OLLAMA)
KEYS = ("url", "key_env", "kind")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# Key spellings that must never be taken for the name of a variable.
_KEY_PREFIXES = ("sk-", "api_", "hf_")


@dataclass(frozen=True)
class HostSpec:
    """One configured host; ``url`` has no trailing slash, no path and no credentials."""

    name: str
    url: str
    kind: str = LEXITUI
    key_env: str | None = None

    def key(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The key now in ``key_env`` (None when unset or empty), read per call."""
        if self.key_env is None:
            return None
        env = os.environ if environ is None else environ
        return (env.get(self.key_env) or "").strip() or None

    def as_table(self) -> dict[str, str]:
        """What ``[hosts.NAME]`` holds for this host (never a key)."""
        table = {"url": self.url}
        if self.kind != LEXITUI:
            table["kind"] = self.kind
        if self.key_env:
            table["key_env"] = self.key_env
        return table


def host_specs(config: dict[str, Any]) -> list[HostSpec]:
    """Every ``[hosts.NAME]``, in the file's order; raises ``ConfigError`` on the first bad one."""
    with naming_file(config):
        section = config.get("hosts", {})
        if not isinstance(section, dict):
            raise ConfigError("[hosts] must hold tables such as [hosts.NAME]")
        return [host_spec(name, table) for name, table in section.items()]


def host_spec(name: str, table: object) -> HostSpec:
    where = f"[hosts.{name}]"
    check_host_name(name)
    if not isinstance(table, dict):
        raise ConfigError(f'{where} must be a table with url = "http://..."')
    if "key" in table or "api_key" in table:
        raise ConfigError(
            f"{where}: a key is never read from the config file; put it in an environment "
            'variable and name that with key_env = "VARIABLE"'
        )
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"{where} has no key {unknown[0]!r} (keys: {', '.join(KEYS)})")
    kind = table.get("kind", LEXITUI)
    if kind not in KINDS:
        shown = repr(kind) if isinstance(kind, str) else f"a {type(kind).__name__}"
        raise ConfigError(f"{where} kind must be one of {', '.join(KINDS)}, not {shown}")
    url = host_url(where, table.get("url"))
    key_env = table.get("key_env")
    return HostSpec(name, url, kind, None if key_env is None else key_env_name(where, key_env))


def check_host_name(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(
            f"[hosts] {name!r} is not a host name (letters, digits, '.', '_', '-'; up to 32)"
        )
    return name


def host_url(where: str, value: object) -> str:
    parts = checked_url(where, value, example="http://HOST:PORT", secret_from="key_env")
    if parts.path.rstrip("/") not in ("", "/v1"):
        raise ConfigError(f"{where} url must be the server's root (http://HOST:PORT): {value!r}")
    return f"{parts.scheme}://{parts.netloc}"


def key_env_name(where: str, value: object) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where} key_env must be the quoted name of an environment variable")
    if value.startswith(_KEY_PREFIXES) or not _ENV_NAME.match(value):
        # Not quoted back: what does not look like a variable's name may be the key itself.
        raise ConfigError(
            f"{where} key_env must name an environment variable (such as GPU1_KEY), "
            "not hold the key"
        )
    return value

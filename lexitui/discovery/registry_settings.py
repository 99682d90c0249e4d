"""``[registries.NAME]`` in the config: model registries searched beside the Hub.

Each is a Hugging Face-compatible endpoint (``kind = "huggingface"``, ``url``, optional
``token_env``) or an Ollama-style registry speaking the distribution API (``kind = "ollama"``,
``url``). A registry's token is read from the environment variable ``token_env`` names, when it
is used: a token written in the config file itself is refused, since config files get copied,
shared and committed (K2). Every mistake is one ``ConfigError`` line naming the table and key,
never quoting a value that could be a secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lexitui.config import ConfigError, checked_url, naming_file

HUGGINGFACE = "huggingface"
OLLAMA = "ollama"
KINDS = (HUGGINGFACE, OLLAMA)
KEYS = ("kind", "url", "token_env")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
# The built-in registries' names on the command line (``--registry``): never a configured one.
RESERVED = ("huggingface", "ollama")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# Token spellings that must never be taken for the name of a variable.
_TOKEN_PREFIXES = ("hf_", "api_", "sk-")


@dataclass(frozen=True)
class RegistrySpec:
    """One configured registry; ``url`` has no trailing slash and no credentials."""

    name: str
    kind: str
    url: str
    token_env: str | None = None

    def token(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The token now in ``token_env`` (None when unset or empty): read per call, so a
        variable exported after start-up is used at once."""
        if self.token_env is None:
            return None
        env = os.environ if environ is None else environ
        return (env.get(self.token_env) or "").strip() or None


def registry_specs(config: dict[str, Any]) -> list[RegistrySpec]:
    """Every ``[registries.NAME]``, in the file's order; raises ``ConfigError`` on the first
    bad one."""
    with naming_file(config):
        section = config.get("registries", {})
        if not isinstance(section, dict):
            raise ConfigError("[registries] must hold tables such as [registries.NAME]")
        return [_spec(name, table) for name, table in section.items()]


def _spec(name: str, table: object) -> RegistrySpec:
    where = f"[registries.{name}]"
    if not _NAME.match(name):
        raise ConfigError(
            f"[registries] {name!r} is not a registry name (letters, digits, '.', '_', '-'; "
            "up to 32)"
        )
    if name.lower() in RESERVED:
        raise ConfigError(f"{where}: {name!r} names a built-in registry; choose another name")
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table with kind and url")
    if "token" in table:
        raise ConfigError(
            f"{where} token: a token is never read from the config file; put it in an "
            f'environment variable and name that with token_env = "VARIABLE"'
        )
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"{where} has no key {unknown[0]!r} (keys: {', '.join(KEYS)})")
    kind = table.get("kind")
    if kind not in KINDS:
        shown = repr(kind) if isinstance(kind, str) else "missing"
        raise ConfigError(f'{where} kind must be "huggingface" or "ollama", not {shown}')
    url = _url(where, table.get("url"))
    token_env = table.get("token_env")
    if token_env is not None:
        token_env = _token_env(where, token_env)
        if kind == OLLAMA:
            raise ConfigError(f"{where} token_env: an Ollama-style registry is read without one")
    return RegistrySpec(name, kind, url, token_env)


def _url(where: str, value: object) -> str:
    checked_url(where, value, example="https://...", secret_from="token_env")
    assert isinstance(value, str)
    return value.strip().rstrip("/")


def _token_env(where: str, value: object) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where} token_env must be the quoted name of an environment variable")
    if value.startswith(_TOKEN_PREFIXES) or not _ENV_NAME.match(value):
        # Not quoted back: what does not look like a variable's name may be the token itself.
        raise ConfigError(
            f"{where} token_env must name an environment variable (such as CORP_HF_TOKEN), "
            "not hold the token"
        )
    return value

"""The ``[backends]`` section of the config file: the preferred backend and custom endpoints.

The config writer stores flat tables of scalars, so each custom backend is a few quoted keys
named after it; a hand-written nested table (``[backends.gpu-box]``) is read too::

    [backends]
    preferred = "ollama"
    custom = ["gpu-box"]
    "gpu-box.url" = "http://10.0.0.5:8000/v1"
    "gpu-box.type" = "vllm"
    "gpu-box.api_key_env" = "GPU_BOX_KEY"

A built-in backend that listens somewhere other than its default port is moved the same way,
by its name on the Backends screen (for Ollama this wins over ``OLLAMA_HOST``)::

    "lm-studio.url" = "http://127.0.0.1:1235"

Only the *name* of the variable holding an API key is stored, never the key. URLs with
credentials in them are refused for the same reason.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from lexitui.backends.errors import InvalidBackendConfig
from lexitui.config import ConfigError, Paths, load_config, save_config_section
from lexitui.domain.enums import InferenceBackendType

SECTION = "backends"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
ENV_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


@dataclass(frozen=True)
class CustomBackendSpec:
    name: str
    url: str
    type: InferenceBackendType = InferenceBackendType.CUSTOM
    api_key_env: str | None = None


@dataclass(frozen=True)
class BackendSettings:
    preferred: str | None = None
    custom: tuple[CustomBackendSpec, ...] = ()
    # Built-in backend name -> the URL the user moved it to; names are checked by the manager,
    # which knows the built-ins.
    builtin_urls: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidBackendConfig(
            f"invalid backend name {name[:40]!r}: use 1-32 lowercase letters, digits, '-' or '_'"
        )
    return name


def check_env_name(name: str | None) -> str | None:
    if name is not None and not ENV_PATTERN.fullmatch(name):
        raise InvalidBackendConfig(
            f"invalid environment variable name {name[:40]!r} (the variable's name, not the key)"
        )
    return name


def check_type(value: str | InferenceBackendType) -> InferenceBackendType:
    try:
        return InferenceBackendType(value)
    except ValueError:
        choices = ", ".join(t.value for t in InferenceBackendType)
        raise InvalidBackendConfig(f"unknown backend type {value!r} (one of: {choices})") from None


def check_url(url: str) -> str:
    """An http(s) URL with a host and no credentials, query or fragment; no trailing slash."""
    text = url.strip()
    try:
        parsed = urlsplit(text)
        parsed.port  # noqa: B018 - raises ValueError for a port that is not 0-65535
    except ValueError:
        raise InvalidBackendConfig(f"invalid URL {url[:80]!r}") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InvalidBackendConfig(f"invalid URL {url[:80]!r}: use http://host:port or https://")
    if parsed.username is not None or parsed.password is not None:
        raise InvalidBackendConfig("put credentials in an env var (--api-key-env), not the URL")
    if parsed.port == 0:  # would quietly mean the scheme's default port
        raise InvalidBackendConfig(f"invalid URL {url[:80]!r}: port 0")
    if parsed.query or parsed.fragment:
        raise InvalidBackendConfig(f"invalid URL {url[:80]!r}: no query or fragment")
    if any(c.isspace() or ord(c) < 0x20 for c in text):
        raise InvalidBackendConfig(f"invalid URL {url[:80]!r}: no spaces or control characters")
    return text.rstrip("/")


def _field(section: dict[str, Any], name: str, key: str) -> Any:
    nested = section.get(name)
    if isinstance(nested, dict) and key in nested:
        return nested[key]
    return section.get(f"{name}.{key}")


def load_backend_settings(
    paths: Paths, *, movable: Collection[str] = (), fixed: Collection[str] = ()
) -> BackendSettings:
    """``movable``: the built-ins whose URL may be set; ``fixed``: those that have none."""
    section = load_config(paths).get(SECTION) or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{paths.config_file}: [{SECTION}] must be a table")
    try:
        custom = []
        for name in section.get("custom") or []:
            custom.append(
                CustomBackendSpec(
                    name=check_name(str(name)),
                    url=check_url(str(_field(section, name, "url") or "")),
                    type=check_type(str(_field(section, name, "type") or "custom")),
                    api_key_env=check_env_name(_field(section, name, "api_key_env")),
                )
            )
        names = {spec.name for spec in custom}
        builtin_urls = _moved_builtins(section, names, movable, fixed)
    except InvalidBackendConfig as exc:
        raise ConfigError(f"{paths.config_file}: [{SECTION}] {exc}") from None
    preferred = section.get("preferred")
    return BackendSettings(
        preferred=str(preferred) if preferred else None,
        custom=tuple(custom),
        builtin_urls=MappingProxyType(builtin_urls),
    )


def _moved_builtins(
    section: dict[str, Any], custom: set[str], movable: Collection[str], fixed: Collection[str]
) -> dict[str, str]:
    """Every ``name.url`` (or ``[backends.name] url``) that is not a custom entry's."""
    urls: dict[str, str] = {}
    for key, value in section.items():
        if isinstance(value, dict) and "url" in value:
            name, url = key, value["url"]
        elif isinstance(key, str) and key.endswith(".url"):
            name, url = key.removesuffix(".url"), value
        else:
            continue
        if name in custom:
            continue
        key_text = f"{str(name)[:40]}.url"
        if name in fixed:
            raise InvalidBackendConfig(
                f"{key_text!r}: {name} is lexitui's own engine; it has no address to move"
            )
        if name not in movable:
            raise InvalidBackendConfig(
                f"{key_text!r}: no built-in backend named {str(name)[:40]!r} (built-ins: "
                f"{', '.join(sorted(movable))}; a new endpoint is listed in custom)"
            )
        try:
            urls[name] = check_url(str(url))
        except InvalidBackendConfig as exc:
            raise InvalidBackendConfig(f"{key_text!r}: {exc}") from None
    return urls


def save_backend_settings(paths: Paths, settings: BackendSettings) -> None:
    values: dict[str, Any] = {}
    if settings.preferred:
        values["preferred"] = settings.preferred
    values["custom"] = [spec.name for spec in settings.custom]
    for name, url in settings.builtin_urls.items():
        values[f"{name}.url"] = url
    for spec in settings.custom:
        values[f"{spec.name}.url"] = spec.url
        values[f"{spec.name}.type"] = spec.type.value
        if spec.api_key_env:
            values[f"{spec.name}.api_key_env"] = spec.api_key_env
    save_config_section(paths, SECTION, values)

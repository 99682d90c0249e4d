"""Where lexitui keeps its files, and the user's TOML configuration.

Every location comes from platformdirs unless ``LEXITUI_HOME`` is set, in which case all of them
live under that one folder (tests and portable installs rely on this). The config file is TOML;
values in it can be overridden by environment variables, and the ecosystem's own variables
(``OLLAMA_HOST``, ``HF_TOKEN``...) always win over stored values.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

import platformdirs

APP_NAME = "lexitui"
HOME_ENV = "LEXITUI_HOME"
CONFIG_ENV = "LEXITUI_CONFIG"


@dataclass(frozen=True)
class Paths:
    """The folders and files lexitui reads and writes."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Paths:
        env = os.environ if environ is None else environ
        home = env.get(HOME_ENV)
        if home:
            root = Path(home).expanduser()
            return cls(root / "config", root / "data", root / "cache")
        return cls(
            Path(platformdirs.user_config_dir(APP_NAME)),
            Path(platformdirs.user_data_dir(APP_NAME)),
            Path(platformdirs.user_cache_dir(APP_NAME)),
        )

    @property
    def config_file(self) -> Path:
        override = os.environ.get(CONFIG_ENV)
        return Path(override) if override else self.config_dir / "config.toml"

    @property
    def database(self) -> Path:
        return self.data_dir / "lexitui.db"

    @property
    def models_dir(self) -> Path:
        """The live model store: the default folder, or where ``lexitui storage --move-to``
        put it (a marker file in the data folder says which)."""
        from lexitui.files.model_location import live_models_dir

        return live_models_dir(self.data_dir)

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    def ensure(self) -> None:
        """Create the folders; private data folders are 0700 so tokens and logs stay the user's."""
        for folder in (
            self.config_dir,
            self.data_dir,
            self.cache_dir,
            self.models_dir,
            self.logs_dir,
        ):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)


class ConfigError(ValueError):
    """The config file exists but cannot be used; the message says where and why.

    ``path`` is the file the bad value came from. The code that checks a value often holds only
    the parsed table, so ``naming_file`` fills the path in where the file is known.
    """

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path is not None else self.message


class ConfigData(dict[str, Any]):
    """The parsed config file, remembering which file it came from (for error messages)."""

    def __init__(self, data: dict[str, Any], source: Path | None = None) -> None:
        super().__init__(data)
        self.source = source


@contextmanager
def naming_file(config: dict[str, Any] | Path | None) -> Iterator[None]:
    """Let a ``ConfigError`` raised inside name the file the config was read from."""
    path = config if isinstance(config, Path) else getattr(config, "source", None)
    try:
        yield
    except ConfigError as exc:
        if exc.path is None:
            exc.path = path
        raise


def finite_number(value: object, where: str, *, low: float = 0, high: float) -> float:
    """A number from the config, within ``low``..``high``; NaN, infinities and text refused.

    ``where`` is the table and key (``[runtime] memory_budget_gb``) for the error line.
    """
    # bool is an int in Python: ``true`` for a timeout is a mistake, not 1 second.
    accepted = f"a number from {_bound(low)} to {_bound(high)}"
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where} must be {accepted}, not {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{where} must be {accepted}, not {value!r}")
    return float(value)


def checked_url(where: str, value: object, *, example: str, secret_from: str) -> SplitResult:
    """A configured server's URL, split: http(s), a host, a port 1-65535 and not 0, no query,
    and no user or password in it (``secret_from`` names the key that holds one instead)."""
    if value is None:
        raise ConfigError(f'{where} needs url = "{example}"')
    if not isinstance(value, str):
        raise ConfigError(f"{where} url must be a quoted http(s) URL, not a {type(value).__name__}")
    parts = urlsplit(value.strip())
    if parts.username is not None or parts.password is not None:
        # Not quoted back: the part before "@" is a credential.
        raise ConfigError(f"{where} url must not hold a user or password; use {secret_from}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where} url must be an http(s) URL, not {value!r}")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{where} url has a port that is not 1-65535: {value!r}") from None
    if port == 0:
        raise ConfigError(f"{where} url has port 0, which no server listens on: {value!r}")
    if parts.query or parts.fragment:
        raise ConfigError(f"{where} url must not have a query or fragment: {value!r}")
    return parts


def _bound(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def hub_token(config: dict[str, Any]) -> str | None:
    """``[huggingface] token``: a string, or absent. Anything else is a ``ConfigError`` when the
    file is loaded, not a crash on the first Hub call (nor a token silently ignored)."""
    with naming_file(config):
        section = config.get("huggingface", {})
        if not isinstance(section, dict):
            raise ConfigError("[huggingface] must be a table")
        token = section.get("token")
        if token is None or isinstance(token, str):
            return token
        # The value is never quoted back: it may be a token typed without its quotes.
        raise ConfigError(
            f'[huggingface] token must be a quoted string ("hf_..."), not a {type(token).__name__}'
        )


DEFAULT_OLLAMA_SITE = "https://ollama.com"


def ollama_site_url(config: dict[str, Any]) -> str | None:
    """``[ollama_library] url``: the website whose library pages Discover reads (default
    ollama.com); ``false`` reads none (search then runs over the names lexitui knows)."""
    with naming_file(config):
        section = config.get("ollama_library", {})
        if not isinstance(section, dict):
            raise ConfigError("[ollama_library] must be a table")
        url = section.get("url", DEFAULT_OLLAMA_SITE)
        if url is False:
            return None
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            raise ConfigError("[ollama_library] url must be an http(s) URL or false")
        if not urlsplit(url).netloc:
            raise ConfigError('[ollama_library] url must name a host ("https://ollama.com")')
        return url.rstrip("/")


def load_config(paths: Paths) -> dict[str, Any]:
    """Read the TOML config; a missing file is an empty config, a broken one a clear error."""
    path = paths.config_file
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ConfigData({}, path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the config file ({exc})", path) from None
    try:
        config = ConfigData(tomllib.loads(text), path)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML ({exc})", path) from exc
    hub_token(config)  # checked now: the Hub is reached long after the store is open
    ollama_site_url(config)
    return config


def save_config_section(paths: Paths, section: str, values: dict[str, Any]) -> None:
    """Replace one ``[section]`` of the config file, keeping the others, atomically."""
    data = load_config(paths)
    data[section] = values
    path = paths.config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(dumps_toml(data), encoding="utf-8")
    os.replace(tmp, path)


def dumps_toml(data: dict[str, Any]) -> str:
    """Write the subset of TOML our config uses: tables (nested ones too, such as
    ``[providers.openai]`` or ``[routing.tasks]``) of scalars and scalar lists."""
    lines: list[str] = []
    _write_table(lines, (), data)
    return "\n".join(lines).lstrip("\n") + "\n"


def _write_table(lines: list[str], path: tuple[str, ...], table: dict[str, Any]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in table.items() if isinstance(v, dict)}
    # A table holding only tables needs no header of its own: [a.b] implies [a].
    if path and (scalars or not tables):
        lines.append(f"\n[{'.'.join(_quote_key(p) for p in path)}]")
    for key, value in scalars.items():
        lines.append(f"{_quote_key(key)} = {_toml_value(value)}")
    for key, value in tables.items():
        _write_table(lines, (*path, key), value)


def _quote_key(key: str) -> str:
    if key.replace("_", "").replace("-", "").isalnum():
        return key
    return _toml_value(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(f"cannot store {type(value).__name__} in the config file")

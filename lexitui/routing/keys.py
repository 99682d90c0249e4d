"""API keys for the cloud providers: from the environment, or stored in ``keys.toml``.

The environment variable named by ``api_key_env`` always wins over a stored key (K4), so a key
exported for one shell session is never shadowed by an old one on disk. The file lives in the
config folder, which is made 0700, and is written 0600 through a fresh temp file that is renamed
into place (K1): a crash mid-write never leaves a half-written or world-readable key.
Keys never go into reprs, logs or error messages (K2); ``redact`` masks one that a server
echoes back, and ``redact_url`` masks what a configured URL may carry (Azure-style
``?api-key=``/``?code=`` query strings, ``user:password@``) wherever a URL is shown.
"""

from __future__ import annotations

import contextlib
import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from lexitui.config import ConfigError
from lexitui.routing.settings import ProviderSettings

KEYS_FILE = "keys.toml"
MASK = "***"


def redact(text: str, key: str | None) -> str:
    """``text`` with every occurrence of ``key`` masked; short keys are left (false matches)."""
    if not key or len(key) < 4:
        return text
    return text.replace(key, MASK)


def redact_url(url: str) -> str:
    """``url`` with its password and every query value masked (names kept, so the user can
    still see *which* parameters are set). A URL that cannot be parsed is masked whole after
    its scheme and host, since it may hold anything."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return MASK
    netloc = parts.netloc
    if parts.username is not None or parts.password is not None:
        user = parts.username or ""
        secret = f":{MASK}" if parts.password is not None else ""
        netloc = f"{user}{secret}@{f'[{host}]' if ':' in host else host}{port}"
    # A piece without "=" may be a bare key (``?sk-...``): masked whole.
    pieces = [p.partition("=") for p in parts.query.split("&") if p]
    query = "&".join(f"{name}={MASK}" if eq else MASK for name, eq, _ in pieces)
    fragment = MASK if parts.fragment else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def missing_key_reason(provider: ProviderSettings) -> str:
    """Why a provider that needs a key cannot be used, and how to give it one."""
    if provider.api_key_env:
        return f"no API key (set {provider.api_key_env})"
    return f"no API key (store one for {provider.id}, or set api_key_env in its config)"


class KeyStore:
    """Where each provider's key comes from: the environment first, then ``keys.toml``."""

    def __init__(self, config_dir: Path, environ: Mapping[str, str] | None = None) -> None:
        self._dir = Path(config_dir)
        self._environ = environ  # None: read os.environ at each lookup, so changes apply at once

    def __repr__(self) -> str:
        return f"KeyStore({str(self.path)!r})"

    @property
    def path(self) -> Path:
        return self._dir / KEYS_FILE

    def get(self, provider: ProviderSettings) -> tuple[str | None, str]:
        """The key and where it came from: ``"env NAME"``, ``"stored"`` or ``"none"``."""
        env = os.environ if self._environ is None else self._environ
        name = provider.api_key_env
        if name:
            value = env.get(name, "").strip()
            if value:
                return value, f"env {name}"
        stored = self._read().get(provider.id)
        if stored:
            return stored, "stored"
        return None, "none"

    def stored_ids(self) -> list[str]:
        return sorted(self._read())

    def set(self, provider_id: str, key: str) -> None:
        key = key.strip()
        if not key:
            raise ValueError("an API key cannot be empty")
        if any(c.isspace() or not c.isprintable() for c in key):
            # A pasted key with a line break would be sent as a broken header.
            raise ValueError("an API key cannot contain spaces or control characters")
        keys = self._read()
        keys[provider_id] = key
        self._write(keys)

    def delete(self, provider_id: str) -> bool:
        """Forget the stored key; True when there was one."""
        keys = self._read()
        if keys.pop(provider_id, None) is None:
            return False
        self._write(keys)
        return True

    def _read(self) -> dict[str, str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            # tomllib's messages give a position, never the text there, so no key leaks.
            raise ConfigError(
                f'not valid TOML ({exc}); expected lines like openai = "sk-..."; '
                "fix or delete the file",
                self.path,
            ) from None
        for provider_id, value in data.items():
            if not isinstance(value, str):
                # The value is never quoted: it may be a key typed without its quotes.
                raise ConfigError(
                    f"{provider_id} must be a quoted string (the API key), "
                    f"not a {type(value).__name__}",
                    self.path,
                )
        return {str(k): v for k, v in data.items()}

    def _write(self, keys: dict[str, str]) -> None:
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self._dir.stat().st_uid == os.getuid():
            # mkdir's mode does not apply to a folder that already existed.
            os.chmod(self._dir, 0o700)
        lines = [f"{_toml_string(k)} = {_toml_string(v)}" for k, v in sorted(keys.items())]
        data = ("\n".join(lines) + "\n" if lines else "").encode("utf-8")
        tmp = self._dir / f".{KEYS_FILE}.{os.getpid()}.tmp"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        # O_EXCL and O_NOFOLLOW: never write a key through a file or link planted at this name.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(tmp, flags, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise


def _toml_string(value: str) -> str:
    # JSON's escapes are a subset of TOML basic strings; ensure_ascii=False avoids \ud83d-style
    # surrogate escapes, which TOML rejects.
    return json.dumps(value, ensure_ascii=False)

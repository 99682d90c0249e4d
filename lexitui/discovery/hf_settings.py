"""Where the Hugging Face registry talks to, with which token, and whether it may talk at all.

Read from the environment at the time of each call, not at import: ``huggingface_hub`` reads
``HF_ENDPOINT``/``HF_HUB_OFFLINE`` once when it is imported, so lexitui passes the endpoint and
token explicitly to every call instead of relying on its globals.

Token precedence (checklist K4): ``HF_TOKEN`` (or the older ``HUGGING_FACE_HUB_TOKEN``) wins,
then the token in lexitui's config, then the one ``hf auth login`` saved. The value is kept out
of ``repr`` so a logged settings object never shows it (K2).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import huggingface_hub

DEFAULT_ENDPOINT = "https://huggingface.co"
_TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class HubToken:
    value: str = field(repr=False)
    source: str  # where it came from, for messages: "HF_TOKEN", "the lexitui config", ...


def resolve_token(
    config_token: str | None, environ: Mapping[str, str] | None = None
) -> HubToken | None:
    env = os.environ if environ is None else environ
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        value = (env.get(name) or "").strip()
        if value:
            return HubToken(value, name)
    if config_token and config_token.strip():
        return HubToken(config_token.strip(), "the lexitui config")
    try:
        saved = huggingface_hub.get_token()
    except Exception:  # an unreadable token file or a failed OIDC exchange: go without
        saved = None
    return HubToken(saved, "hf auth login") if saved else None


def resolve_endpoint(explicit: str | None, environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    raw = (explicit or env.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).strip().rstrip("/")
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"HF_ENDPOINT must be an http(s) URL, got {display_url(raw)!r}")
    return raw


def offline(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    flag = env.get("HF_HUB_OFFLINE") or env.get("TRANSFORMERS_OFFLINE") or ""
    return flag.strip().lower() in _TRUE


def display_url(url: str) -> str:
    """The URL without any ``user:password@`` part, for messages (K2)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))

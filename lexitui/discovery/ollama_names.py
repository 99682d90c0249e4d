"""Ollama model names (``[host/][namespace/]model[:tag]``) and blob digests, validated by allowlist.

The grammar follows Ollama's own (``types/model/name.go``): host ``[A-Za-z0-9_][A-Za-z0-9_.:-]*``
up to 350 characters; namespace ``[A-Za-z0-9_][A-Za-z0-9_-]*`` (no dots) up to 80; model and tag
``[A-Za-z0-9_][A-Za-z0-9_.-]*`` up to 80. Missing parts default to ``registry.ollama.ai``,
``library`` and ``latest``. Two parts are ``namespace/model``; three are ``host/namespace/model``.

We are stricter than Ollama in two ways, because each part ends up in a URL path and a cache key
(P1/P2): ``..`` is refused anywhere, and so is a scheme (``https://``): a name is not a URL.
Ollama's newer names with a kind part (``namespace/skill/model``, ``host/namespace/agent/model``)
name skills and agents, not models, so they are refused with a sentence saying so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"

_HOST = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,349}")
_NAMESPACE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,79}")
_MODEL_OR_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}")
_DIGEST = re.compile(r"sha256[:-]([0-9a-f]{64})")
_KINDS = ("skill", "agent", "mcp")  # Ollama's non-model "kind" part (namespace/kind/model)
_MAX_NAME = 350 + 1 + 80 + 1 + 80 + 1 + 80


class InvalidModelName(ValueError):
    """The text is not an Ollama model name; the message says which part is wrong."""


class InvalidDigest(ValueError):
    """A digest from a manifest (or the cache) is not ``sha256`` and 64 lowercase hex digits."""


@dataclass(frozen=True)
class OllamaName:
    host: str
    namespace: str
    model: str
    tag: str

    @property
    def repository(self) -> str:
        """``namespace/model``: the repository part of the registry's ``/v2/…`` paths."""
        return f"{self.namespace}/{self.model}"

    @property
    def short(self) -> str:
        """What users type and ``ollama list`` shows: ``llama3.2:3b``, ``someuser/model:tag``."""
        if self.host != DEFAULT_HOST:
            return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"
        if self.namespace != DEFAULT_NAMESPACE:
            return f"{self.namespace}/{self.model}:{self.tag}"
        return f"{self.model}:{self.tag}"

    @property
    def full(self) -> str:
        return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"

    @property
    def key(self) -> str:
        """Case-folded full name: Ollama compares names case-insensitively, so the cache does."""
        return self.full.casefold()


def _check(part: str, pattern: re.Pattern[str], what: str, text: str) -> str:
    if not pattern.fullmatch(part) or ".." in part:
        raise InvalidModelName(f"{what} {part!r} in model name {text!r} is not valid")
    return part


def parse_ollama_name(text: str) -> OllamaName:
    """Parse ``[host/][namespace/]model[:tag]``; raise ``InvalidModelName`` with a clear reason."""
    # repr() in messages keeps control characters from reaching the terminal raw (G7).
    if not text or len(text) > _MAX_NAME:
        raise InvalidModelName(f"model name {text[:80]!r} is empty or too long")
    if "://" in text:
        raise InvalidModelName(f"{text!r} is a URL; give a model name such as llama3.2:3b")
    rest, tag = text, DEFAULT_TAG
    # ":" is legal in a host (a port) but never after the last "/", so only that one is a tag.
    if rest.rfind(":") > rest.rfind("/"):
        rest, _, tag = rest.rpartition(":")
    parts = rest.split("/")
    if len(parts) >= 3 and parts[-2] in _KINDS:
        raise InvalidModelName(f"{text!r} names an Ollama {parts[-2]}, not a model")
    if len(parts) > 3:
        raise InvalidModelName(
            f"{text!r} has {len(parts)} parts; a model name is [host/][namespace/]model[:tag]"
        )
    host, namespace = DEFAULT_HOST, DEFAULT_NAMESPACE
    if len(parts) == 3:
        host, namespace, model = parts
    elif len(parts) == 2:
        namespace, model = parts
    else:
        (model,) = parts
    return OllamaName(
        host=_check(host, _HOST, "host", text).lower(),
        namespace=_check(namespace, _NAMESPACE, "namespace", text),
        model=_check(model, _MODEL_OR_TAG, "model", text),
        tag=_check(tag, _MODEL_OR_TAG, "tag", text),
    )


def parse_digest(text: object) -> str:
    """``sha256:<hex>`` or ``sha256-<hex>`` (64 lowercase hex digits) -> the hex; else raise."""
    # ``object``: digests come straight out of untrusted JSON, where any type can appear.
    match = _DIGEST.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidDigest(f"digest {str(text)[:100]!r} is not sha256:<64 lowercase hex>")
    return match.group(1)

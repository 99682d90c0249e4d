"""The Ollama registry's manifest and config blob, parsed strictly.

A manifest is a Docker image manifest v2 (schema 2): ``config`` is a small JSON blob of media
type ``application/vnd.docker.container.image.v1+json`` and ``layers`` carry the model: the GGUF
weights (``application/vnd.ollama.image.model``) plus small text layers (template, license,
params, system) and optional ``projector``/``adapter`` weights. This is the shape Ollama's
``server/images.go`` writes and reads (``ManifestV2``/``ConfigV2``).

Everything here comes from the network (or from a cache that came from it), so each field is
checked: digests against the allowlist (P2), sizes as non-negative integers, counts bounded, and
every string cleaned to one printable line before it can reach a terminal (G7).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lexitui.backends.errors import clean_text
from lexitui.discovery.ollama_names import InvalidDigest, parse_digest

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
IMAGE_CONFIG = "application/vnd.docker.container.image.v1+json"
LAYER_PREFIX = "application/vnd.ollama.image."
MODEL_LAYER = LAYER_PREFIX + "model"
LICENSE_LAYER = LAYER_PREFIX + "license"
MAX_LAYERS = 256  # real manifests have 2-8; a split GGUF from hf.co a few dozen
MAX_LAYER_SIZE = 1 << 50  # 1 PiB: anything larger is a corrupt or hostile number


class ManifestError(ValueError):
    """The manifest or config blob is not what the Ollama registry serves."""


@dataclass(frozen=True)
class Layer:
    media_type: str
    digest: str  # 64 lowercase hex, without the "sha256:" prefix
    size: int

    @property
    def kind(self) -> str:
        """``model``, ``license``, ``template``...: the media type after Ollama's prefix."""
        return self.media_type.removeprefix(LAYER_PREFIX)


@dataclass(frozen=True)
class Manifest:
    config: Layer
    layers: tuple[Layer, ...]

    def of_type(self, media_type: str) -> tuple[Layer, ...]:
        return tuple(layer for layer in self.layers if layer.media_type == media_type)


@dataclass(frozen=True)
class ModelConfig:
    """The fields of Ollama's config blob that say what the model is (``ConfigV2``)."""

    model_format: str | None = None  # "gguf"
    model_family: str | None = None  # "llama": the GGUF general.architecture
    model_families: tuple[str, ...] = ()
    model_type: str | None = None  # "3.2B": what `ollama show` calls the parameter size
    file_type: str | None = None  # "Q4_K_M": the quantization level


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{what} is not JSON ({exc.__class__.__name__})") from None
    if not isinstance(value, dict):
        raise ManifestError(f"{what} is not a JSON object")
    return value


def _layer(entry: Any, where: str) -> Layer:
    if not isinstance(entry, dict):
        raise ManifestError(f"{where} is not an object")
    media_type, size = entry.get("mediaType"), entry.get("size")
    if not isinstance(media_type, str) or not media_type or len(media_type) > 200:
        raise ManifestError(f"{where} has no media type")
    # bool is an int in Python; a JSON true is not a size.
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_LAYER_SIZE:
        raise ManifestError(f"{where} has an invalid size")
    try:
        digest = parse_digest(entry.get("digest"))
    except InvalidDigest as exc:
        raise ManifestError(f"{where}: {exc}") from None
    return Layer(clean_text(media_type, 200), digest, size)


def parse_manifest(data: bytes) -> Manifest:
    """Validate a manifest body; raise ``ManifestError`` naming the first thing wrong."""
    doc = _json_object(data, "manifest")
    if doc.get("schemaVersion") != 2:
        raise ManifestError("manifest is not schema version 2")
    media_type = doc.get("mediaType")
    if media_type is not None and media_type != MANIFEST_V2:
        raise ManifestError(f"manifest media type {clean_text(str(media_type), 80)!r} is unknown")
    layers = doc.get("layers")
    if not isinstance(layers, list) or len(layers) > MAX_LAYERS:
        raise ManifestError("manifest layers are missing or too many")
    return Manifest(
        config=_layer(doc.get("config"), "manifest config"),
        layers=tuple(_layer(entry, f"manifest layer {i}") for i, entry in enumerate(layers)),
    )


def _text(value: Any, limit: int = 80) -> str | None:
    return clean_text(value, limit) or None if isinstance(value, str) else None


def parse_config(data: bytes) -> ModelConfig:
    """The config blob's model fields; unknown or mistyped fields are left out, not guessed."""
    doc = _json_object(data, "config blob")
    families = doc.get("model_families")
    cleaned = [_text(f) for f in families[:32]] if isinstance(families, list) else []
    return ModelConfig(
        model_format=_text(doc.get("model_format")),
        model_family=_text(doc.get("model_family")),
        model_families=tuple(f for f in cleaned if f),
        model_type=_text(doc.get("model_type")),
        file_type=_text(doc.get("file_type")),
    )

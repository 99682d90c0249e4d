"""An Ollama manifest + config blob -> the roadmap's ``RemoteModel`` with its one ``ModelVariant``.

Only what the registry states is filled in. It has no description, download counts, likes,
context length or task list, so those stay empty rather than guessed; ``architecture`` is the
config's ``model_family`` (the GGUF ``general.architecture``), because the config's own
``architecture`` field is the OCI platform ("amd64"), not the model's.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lexitui.discovery.ollama_manifest import (
    MODEL_LAYER,
    Manifest,
    ManifestError,
    ModelConfig,
)
from lexitui.discovery.ollama_names import DEFAULT_HOST, DEFAULT_NAMESPACE, OllamaName
from lexitui.discovery.quant_names import parse_quantization
from lexitui.domain.discovery import ModelVariant, RemoteModel
from lexitui.domain.enums import ModelFormat, ModelRegistryType, QuantizationType

# "3.2B", "135M", "8x7B", "46.7B": anything else is not a parameter count we can use.
_PARAMETERS = re.compile(r"(?:\d+x)?\d+(?:\.\d+)?[KMBT]", re.IGNORECASE)
# Layers worth a tag: they change what the model can do or what loading it costs.
_NOTABLE_LAYERS = ("projector", "adapter")

BlobUrl = Callable[[OllamaName, str], str]


def blob_filename(digest: str) -> str:
    """How Ollama names a blob on disk (``blobs/sha256-<hex>``): the P2 allowlist form."""
    return f"sha256-{digest}"


def _quantization(file_type: str | None) -> tuple[QuantizationType | None, str | None]:
    """The base llama.cpp type and the label, as Hub variants carry them (``quant_names``)."""
    if not file_type:
        return None, None
    parsed = parse_quantization(file_type)
    if parsed is None:
        return None, file_type  # a type newer than our table: kept as the registry spells it
    return parsed.quantization, parsed.label


def _format(model_format: str | None) -> ModelFormat:
    """The config's ``model_format``; a manifest without one is GGUF (all Ollama had then)."""
    if not model_format:
        return ModelFormat.GGUF
    try:
        return ModelFormat(model_format.lower())
    except ValueError:
        raise ManifestError(f"model format {model_format!r} is not one lexitui knows") from None


def to_variant(
    name: OllamaName, manifest: Manifest, config: ModelConfig, url: BlobUrl
) -> ModelVariant:
    weights = manifest.of_type(MODEL_LAYER)
    if not weights:
        # Ollama's cloud models (":cloud" tags) have a manifest but no weights to run locally.
        raise ManifestError(f"{name.short} has no model weights to download (a cloud model?)")
    quantization, label = _quantization(config.file_type)
    files = tuple(blob_filename(layer.digest) for layer in weights)
    return ModelVariant(
        variant_id=name.short,
        filename=files[0],
        format=_format(config.model_format),
        size_bytes=sum(layer.size for layer in weights),
        quantization=quantization,
        quantization_label=label,
        # One digest cannot vouch for a split set; each file's digest is its filename.
        sha256=weights[0].digest if len(weights) == 1 else None,
        download_url=url(name, weights[0].digest),
        files=files if len(files) > 1 else (),
    )


def _tags(name: OllamaName, manifest: Manifest, config: ModelConfig) -> tuple[str, ...]:
    """The Ollama tag first, then the format, the families and any notable extra layers."""
    kinds = {layer.kind for layer in manifest.layers}
    found = [name.tag, config.model_format, *config.model_families]
    found += [kind for kind in _NOTABLE_LAYERS if kind in kinds]
    return tuple(dict.fromkeys(tag for tag in found if tag))


def to_remote_model(
    name: OllamaName,
    manifest: Manifest,
    config: ModelConfig,
    *,
    url: BlobUrl,
    license_line: str | None = None,
) -> RemoteModel:
    variant = to_variant(name, manifest, config, url)
    official = name.host == DEFAULT_HOST
    parameters = config.model_type if config.model_type else None
    if parameters and not _PARAMETERS.fullmatch(parameters):
        parameters = None
    return RemoteModel(
        id=name.short,
        name=name.short.rpartition(":")[0],
        registry=ModelRegistryType.OLLAMA_LIBRARY,
        author=None if name.namespace == DEFAULT_NAMESPACE else name.namespace,
        homepage=f"https://ollama.com/{name.namespace}/{name.model}" if official else None,
        repository=f"{name.host}/{name.repository}",
        parameter_count=parameters.upper() if parameters else None,
        architecture=config.model_family,
        variants=(variant,),
        recommended_variant=variant,
        license=license_line,
        tags=_tags(name, manifest, config),
    )

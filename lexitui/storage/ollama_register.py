"""Handing an installed model to Ollama: its GGUF goes up as a blob (skipped when Ollama has it,
which ``push_blob`` asks with ``HEAD /api/blobs/sha256:…``) and ``/api/create`` makes a model of
it, so the user can run it with ``ollama run`` too.

Ollama's create takes one GGUF file per model, so a split model is refused up front instead of
uploading gigabytes for a create that cannot work.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from lexitui.domain.enums import ModelFormat
from lexitui.domain.storage import StoredModel
from lexitui.gguf.text import safe_text
from lexitui.storage.errors import StorageError
from lexitui.storage.parts import split_index

if TYPE_CHECKING:  # storage does not need the backends package unless this is used
    from lexitui.backends.ollama import OllamaBackend

# Ollama's model name: optional "namespace/" parts, a name, an optional ":tag".
_NAME = re.compile(r"^(?:[a-z0-9][a-z0-9_.-]*/)*[a-z0-9][a-z0-9_.-]*(?::[a-z0-9_][a-z0-9_.-]*)?$")
_UNSAFE = re.compile(r"[^a-z0-9_.-]+")
MAX_NAME = 128


def ollama_name(model_id: str, name: str | None = None) -> str:
    """The Ollama name to create: ``name`` checked, or one made from the model id; always with
    a tag (Ollama adds ``:latest`` to a bare name, and /api/tags lists it so)."""
    if name is None:
        base = _UNSAFE.sub("-", model_id.lower()).strip("-._")[:MAX_NAME].rstrip("-._")
        if not base:
            raise StorageError(f"cannot make an Ollama name from {safe_text(model_id)!r}")
        name = base
    name = name.strip().lower()
    if len(name) > 2 * MAX_NAME or not _NAME.match(name):
        raise StorageError(
            f"{safe_text(name)!r} is not a valid Ollama model name"
            " (letters, digits, '_', '.', '-', an optional ':tag')"
        )
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def gguf_to_register(model: StoredModel) -> Path:
    """The one file Ollama's create will get; StorageError for what it cannot take."""
    installed = model.model
    if installed.format is not ModelFormat.GGUF:
        raise StorageError(f"{installed.id}: only GGUF models can be registered with Ollama")
    path = Path(installed.path)
    if split_index(path.name) is not None:
        raise StorageError(
            f"{installed.id} is a split GGUF (several files); Ollama creates a model from one"
            " file only: merge the parts first (llama-gguf-split --merge)"
        )
    if not path.is_file():
        raise StorageError(f"{installed.id}: its file is missing ({safe_text(str(path))})")
    return path


async def register_with_ollama(
    model: StoredModel, backend: OllamaBackend, name: str | None = None
) -> str:
    """Create ``model`` in Ollama and return the name it has there. An unreachable Ollama
    raises the backend's own error; a refusal from Ollama is a StorageError with its reason."""
    path = gguf_to_register(model)
    target = ollama_name(model.id, name)
    result = await backend.create_model(target, path)
    if not result.success:
        raise StorageError(f"Ollama did not create {target}: {result.error or 'no reason given'}")
    return target

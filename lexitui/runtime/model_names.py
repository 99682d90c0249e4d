"""Which installed model a request means by the name it gives.

Clients name models the way their own tool does: lexitui's id (``smollm2-135m-instruct-q8_0``),
the file name (``SmolLM2-135M-Instruct-Q8_0.gguf``), or an Ollama ``name:tag`` (``llama3.2:3b``,
``llama3.2`` meaning ``:latest``) for a model of the shared library. One function answers for the
OpenAI side, the Ollama side and the command line, so a name means the same model everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath

from lexitui.discovery.ollama_names import DEFAULT_TAG, InvalidModelName, parse_ollama_name
from lexitui.domain.models import InstalledModel

GGUF_SUFFIX = ".gguf"


def find_installed(models: Sequence[InstalledModel], name: str) -> InstalledModel | None:
    """The installed model ``name`` means, or None. An exact id wins over everything else; then
    the id without Ollama's implied ``:latest``; then the file name (with or without ``.gguf``);
    then the model's own name (the ``name:tag`` a shared Ollama model is pulled by)."""
    wanted = name.strip()
    if not wanted:
        return None
    for model in models:
        if model.id == wanted:
            return model
    folded = wanted.casefold()
    bare = _without_latest(folded)
    for model in models:
        if model.id.casefold() in (folded, bare):
            return model
    for model in models:
        file_name = PurePath(model.path).name.casefold()
        stem = file_name.removesuffix(GGUF_SUFFIX)
        if folded in (file_name, stem) or bare == stem:
            return model
    as_ollama = _ollama_short(wanted)
    for model in models:
        if model.name.casefold() == folded:
            return model
        if as_ollama is not None and _ollama_short(model.name) == as_ollama:
            return model
    return None


def _without_latest(name: str) -> str:
    suffix = f":{DEFAULT_TAG}"
    return name[: -len(suffix)] if name.endswith(suffix) else name


def _ollama_short(text: str) -> str | None:
    """``llama3.2`` and ``library/llama3.2:latest`` both mean ``llama3.2:latest``."""
    try:
        return parse_ollama_name(text.strip()).short.casefold()
    except InvalidModelName:
        return None

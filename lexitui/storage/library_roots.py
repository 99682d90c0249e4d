"""Where other tools keep their models, from their own environment variables.

- Hugging Face cache: ``HF_HUB_CACHE``, else ``HF_HOME/hub``, else
  ``$XDG_CACHE_HOME/huggingface/hub``, else ``~/.cache/huggingface/hub`` (the order
  ``huggingface_hub`` itself resolves).
- Ollama: ``OLLAMA_MODELS``, else ``~/.ollama/models``; Linux installs that run Ollama as its own
  service user keep them in ``/usr/share/ollama/.ollama/models``.
- LM Studio: ``~/.lmstudio/models``, and ``~/.cache/lm-studio/models`` from older releases.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lexitui.domain.storage import HF_CACHE_SOURCE, LMSTUDIO_SOURCE, OLLAMA_SOURCE

OLLAMA_SERVICE_MODELS = Path("/usr/share/ollama/.ollama/models")


@dataclass(frozen=True)
class LibraryRoots:
    hf_cache: tuple[Path, ...] = ()
    ollama: tuple[Path, ...] = ()
    lmstudio: tuple[Path, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LibraryRoots:
        env = os.environ if environ is None else environ
        home = Path(env.get("HOME") or os.path.expanduser("~"))
        return cls(
            hf_cache=(_hf_cache(env, home),),
            ollama=_ollama(env, home),
            lmstudio=(home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"),
        )

    def all(self) -> list[tuple[str, Path]]:
        return [
            *((HF_CACHE_SOURCE, p) for p in self.hf_cache),
            *((OLLAMA_SOURCE, p) for p in self.ollama),
            *((LMSTUDIO_SOURCE, p) for p in self.lmstudio),
        ]


def _hf_cache(env: Mapping[str, str], home: Path) -> Path:
    if env.get("HF_HUB_CACHE"):
        return Path(env["HF_HUB_CACHE"]).expanduser()
    if env.get("HF_HOME"):
        return Path(env["HF_HOME"]).expanduser() / "hub"
    cache = Path(env["XDG_CACHE_HOME"]).expanduser() if env.get("XDG_CACHE_HOME") else None
    return (cache or home / ".cache") / "huggingface" / "hub"


def _ollama(env: Mapping[str, str], home: Path) -> tuple[Path, ...]:
    if env.get("OLLAMA_MODELS"):
        return (Path(env["OLLAMA_MODELS"]).expanduser(),)
    return (home / ".ollama" / "models", OLLAMA_SERVICE_MODELS)

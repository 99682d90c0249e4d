"""Ollama's JSON shapes, turned into our records, and our options turned into Ollama's.

Followed from Ollama's API docs: ``/api/tags`` and ``/api/ps`` entries carry ``name``, ``size``,
``digest``, ``details`` (format, family, parameter_size, quantization_level) and, for ``ps``,
``size_vram`` and ``expires_at``; model options use llama.cpp-style names (``num_ctx``,
``num_gpu``...). Timestamps are RFC 3339 with nanoseconds; Python keeps microseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lexitui.domain.backends import BackendModel, GenerationRequest, ModelLoadOptions

DIGEST_PATTERN = re.compile(r"^sha256:[0-9a-f]{64}$")
_FRACTION = re.compile(r"(\.\d{6})\d+")


@dataclass(frozen=True)
class RunningModel:
    """A model Ollama holds in memory (``/api/ps``)."""

    name: str
    size_bytes: int | None
    vram_bytes: int | None
    expires_at: datetime | None
    context_length: int | None


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(_FRACTION.sub(r"\1", value))
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def model_from_tag(entry: dict[str, Any], loaded: set[str]) -> BackendModel:
    details = entry.get("details") if isinstance(entry.get("details"), dict) else {}
    assert isinstance(details, dict)
    name = str(entry.get("name") or entry.get("model"))
    return BackendModel(
        id=name,
        name=name,
        size_bytes=_int(entry.get("size")),
        format=_str(details.get("format")),
        quantization=_str(details.get("quantization_level")),
        family=_str(details.get("family")),
        parameter_size=_str(details.get("parameter_size")),
        loaded=name in loaded,
        modified_at=parse_time(entry.get("modified_at")),
    )


def running_from_ps(entry: dict[str, Any]) -> RunningModel:
    return RunningModel(
        name=str(entry.get("name") or entry.get("model")),
        size_bytes=_int(entry.get("size")),
        vram_bytes=_int(entry.get("size_vram")),
        expires_at=parse_time(entry.get("expires_at")),
        context_length=_int(entry.get("context_length")),
    )


def context_length_from_show(show: dict[str, Any]) -> int | None:
    """``model_info`` has ``<architecture>.context_length``, e.g. ``llama.context_length``."""
    info = show.get("model_info")
    if not isinstance(info, dict):
        return None
    arch = info.get("general.architecture")
    return _int(info.get(f"{arch}.context_length")) if isinstance(arch, str) else None


def load_options(options: ModelLoadOptions) -> dict[str, Any]:
    """Only what the user chose; Ollama's own defaults are better than ours for the rest.

    ``gpu_layers=-1`` ("all") is left out: Ollama's default already offloads every layer that
    fits, where a forced count would fail on a model too big for the GPU.
    """
    gpu = None if options.gpu_layers is not None and options.gpu_layers < 0 else options.gpu_layers
    pairs = {
        "num_gpu": gpu,
        "num_ctx": options.context_length,
        "num_thread": options.threads,
        "num_batch": options.batch_size,
        "use_mmap": options.use_mmap,
        "use_mlock": options.use_mlock,
        "main_gpu": options.main_gpu,
        "rope_frequency_base": options.rope_freq_base,
        "rope_frequency_scale": options.rope_freq_scale,
    }
    return {key: value for key, value in pairs.items() if value is not None}


def sampling_options(request: GenerationRequest) -> dict[str, Any]:
    pairs: dict[str, Any] = {
        "num_predict": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "top_k": request.top_k,
        "repeat_penalty": request.repetition_penalty,
        "frequency_penalty": request.frequency_penalty,
        "presence_penalty": request.presence_penalty,
        "seed": request.seed,
        "stop": list(request.stop) or None,
    }
    return {key: value for key, value in pairs.items() if value is not None}

"""Records of the inference runtime (roadmap v0.16.4): loaded models, generation requests and
results, context status and snapshots.

Times are kept in milliseconds (``*_ms``) rather than ``timedelta``: every figure the runtime
shows or stores is a number a user compares, and JSON carries numbers as they are.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.chat import LocalChatMessage

# Re-exported: the records and their enums come from one module.
from lexitui.domain.enums import LoadedModelStatus as LoadedModelStatus
from lexitui.domain.enums import LocalFormatType as LocalFormatType
from lexitui.domain.models import InstalledModel


def _now() -> datetime:
    return datetime.now(UTC)


class InvalidRequest(ValueError):
    """A generation or load request a user can fix; the message says what is wrong."""


@dataclass(frozen=True)
class LoadedModelMetrics:
    total_requests: int = 0
    total_tokens_generated: int = 0
    total_inference_ms: float = 0.0
    average_tokens_per_second: float = 0.0
    peak_tokens_per_second: float = 0.0
    average_ttft_ms: float = 0.0


@dataclass(frozen=True)
class LoadedModelResources:
    ram_bytes: int = 0  # the engine process's resident memory
    vram_bytes: int | None = None
    loaded_layers: int = 0
    gpu_layers: int = 0
    cpu_layers: int = 0
    context_size: int = 0
    context_used: int = 0


@dataclass(frozen=True)
class LoadedModel:
    id: str  # one load of a model; loading it again later gives a new id
    model: InstalledModel
    options: ModelLoadOptions
    status: LoadedModelStatus
    backend: str
    endpoint: str = ""
    pid: int | None = None
    estimated_bytes: int = 0  # RAM+VRAM the compatibility analyzer expects it to hold
    loaded_at: datetime = field(default_factory=_now)
    last_used_at: datetime | None = None
    # When it unloads if no request comes (its keep-alive); None: it stays until unloaded.
    expires_at: datetime | None = None
    active_requests: int = 0
    error: str = ""
    metrics: LoadedModelMetrics = field(default_factory=LoadedModelMetrics)
    resources: LoadedModelResources = field(default_factory=LoadedModelResources)


@dataclass(frozen=True)
class LocalResponseFormat:
    type: LocalFormatType = LocalFormatType.TEXT
    schema: str | None = None  # a JSON schema, as text, for JSON_SCHEMA


@dataclass(frozen=True)
class LocalGenerationRequest:
    prompt: str | None = None
    messages: tuple[LocalChatMessage, ...] | None = None
    system_prompt: str | None = None
    max_tokens: int | None = None
    temperature: float = 0.7
    top_p: float = 0.9
    top_k: int | None = None
    repetition_penalty: float = 1.1
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    stop_sequences: tuple[str, ...] | None = None
    seed: int | None = None
    min_p: float | None = None
    typical_p: float | None = None
    mirostat: int | None = None  # 0 off, 1 Mirostat, 2 Mirostat 2.0
    mirostat_tau: float | None = None
    mirostat_eta: float | None = None
    format: LocalResponseFormat | None = None
    grammar: str | None = None  # GBNF

    def validate(self) -> None:
        """Raise ``InvalidRequest`` naming the first bad field (before anything is sent)."""
        problems = list(self._problems())
        if problems:
            raise InvalidRequest(problems[0])

    def _problems(self) -> list[str]:
        out: list[str] = []
        if self.prompt is None and not self.messages:
            out.append("give a prompt or chat messages")
        if self.max_tokens is not None and self.max_tokens < 1:
            out.append("max tokens must be 1 or more")
        for name in ("temperature", "top_p", "frequency_penalty", "presence_penalty"):
            if not math.isfinite(getattr(self, name)):
                out.append(f"{name.replace('_', ' ')} must be a number")
        if self.temperature < 0:
            out.append("temperature must be 0 or more")
        for name in ("top_p", "min_p", "typical_p"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1:
                out.append(f"{name.replace('_', '-')} must be between 0 and 1")
        if self.top_k is not None and self.top_k < 0:
            out.append("top-k must be 0 (off) or more")
        if self.repetition_penalty <= 0:
            out.append("repetition penalty must be above 0")
        if self.mirostat is not None and self.mirostat not in (0, 1, 2):
            out.append("mirostat must be 0, 1 or 2")
        if self.grammar is not None and self.format and self.format.type != LocalFormatType.TEXT:
            out.append("use either a grammar or a JSON format, not both")
        if self.format and self.format.type == LocalFormatType.JSON_SCHEMA:
            out.extend(_schema_problems(self.format.schema))
        if any(m.images for m in self.messages or ()):
            # No engine here is started with a multimodal projector: refused, never dropped.
            out.append("this model cannot read images (no multimodal projector is loaded)")
        return out


def _schema_problems(schema: str | None) -> list[str]:
    if not schema:
        return ["JSON schema format needs a schema"]
    try:
        parsed = json.loads(schema)
    except json.JSONDecodeError as exc:
        return [f"the JSON schema is not valid JSON: {exc.msg} at line {exc.lineno}"]
    return [] if isinstance(parsed, dict) else ["the JSON schema must be a JSON object"]


@dataclass(frozen=True)
class LocalGenerationUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens the engine reused from its KV cache

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class LocalGenerationMetrics:
    total_ms: float = 0.0
    ttft_ms: float = 0.0  # from sending the request to the first token arriving
    generation_ms: float = 0.0
    tokens_per_second: float = 0.0  # decode speed, as the engine measured it
    prompt_eval_tokens_per_second: float = 0.0


@dataclass(frozen=True)
class LocalGenerationResult:
    text: str
    usage: LocalGenerationUsage
    finish_reason: str | None = None
    metrics: LocalGenerationMetrics = field(default_factory=LocalGenerationMetrics)
    model_id: str = ""
    loaded_model_id: str = ""
    context_tokens: int = 0  # tokens the engine's context holds after this request


@dataclass(frozen=True)
class LocalGenerationChunk:
    text: str
    is_complete: bool = False
    finish_reason: str | None = None
    token_index: int = 0
    result: LocalGenerationResult | None = None  # on the final chunk only


@dataclass(frozen=True)
class LocalEmbeddingRequest:
    texts: tuple[str, ...]
    normalize: bool = True


@dataclass(frozen=True)
class LocalEmbeddingResult:
    embeddings: list[list[float]]
    dimensions: int
    total_tokens: int = 0


@dataclass(frozen=True)
class ContextStatus:
    max_context_size: int
    used_tokens: int
    kv_cache_bytes: int

    @property
    def available_tokens(self) -> int:
        return self.max_context_size - self.used_tokens

    @property
    def usage_percent(self) -> float:
        if self.max_context_size <= 0:
            return 0.0
        return self.used_tokens / self.max_context_size * 100


@dataclass(frozen=True)
class ContextSnapshot:
    """A saved KV cache: the bytes live in ``file_name`` under the snapshots folder."""

    id: str
    model_id: str
    token_count: int
    size_bytes: int
    file_name: str
    created_at: datetime = field(default_factory=_now)
    label: str = ""

"""Records of the backend layer (roadmap v0.16.1g-i), in Python form.

Every record is frozen so it can travel through reactivex streams and across tasks without
anyone changing it underneath a screen. Optional fields are ``None`` when the backend does not
say: a screen shows "?" rather than a made-up default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lexitui.domain.enums import BackendStatus, GpuBackend, InferenceBackendType
from lexitui.domain.text import clean_text

if TYPE_CHECKING:
    from lexitui.domain.chat import LocalChatMessage


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class BackendInfo:
    type: InferenceBackendType
    name: str
    version: str
    endpoint: str
    gpu_backends: tuple[GpuBackend, ...] = ()
    model_formats: tuple[str, ...] = ()
    supports_streaming: bool = True
    supports_embeddings: bool = False
    max_concurrency: int | None = None

    @property
    def supports_concurrent_requests(self) -> bool:
        return self.max_concurrency is None or self.max_concurrency > 1


@dataclass(frozen=True)
class BackendModel:
    id: str
    name: str
    size_bytes: int | None = None
    format: str | None = None
    quantization: str | None = None
    family: str | None = None
    parameter_size: str | None = None
    # None: the backend cannot tell loaded from merely available (most OpenAI-style servers).
    loaded: bool | None = None
    context_length: int | None = None
    modified_at: datetime | None = None


@dataclass(frozen=True)
class ModelLoadOptions:
    """How to load a model. ``None`` leaves the choice to the backend's own default."""

    context_length: int | None = None
    gpu_layers: int | None = None  # -1 all layers, 0 CPU only
    threads: int | None = None
    batch_size: int | None = None
    use_mmap: bool | None = None
    use_mlock: bool | None = None
    main_gpu: int | None = None
    rope_freq_base: float | None = None
    rope_freq_scale: float | None = None
    flash_attention: str | None = None  # llama.cpp: "on", "off" or "auto"
    kv_cache_type: str | None = None  # llama.cpp: the K and V cache type, e.g. "q8_0"
    engine: str | None = None  # lexitui's own engines: "embedded", "llama-server" or "auto"
    keep_alive: str | int | None = None  # Ollama: "5m", seconds, 0 unloads, negative forever
    embedding: bool = False  # llama.cpp serves /v1/embeddings only when started with it
    # Requests answered at once (llama.cpp's slots, which split the context evenly); None
    # takes ``[runtime] parallel``.
    parallel: int | None = None
    # llama.cpp RPC workers ("HOST:PORT") holding the layers, and their shares of them (empty:
    # by each worker's free memory); such a load runs on llama-server.
    rpc_servers: tuple[str, ...] = ()
    tensor_split: tuple[float, ...] = ()


@dataclass(frozen=True)
class BackendHealth:
    status: BackendStatus
    latency_ms: float | None = None
    message: str = ""
    checked_at: datetime = field(default_factory=_now)
    running_requests: int | None = None
    waiting_requests: int | None = None
    kv_cache_usage: float | None = None  # 0..1, where the server reports it (vLLM)

    def __post_init__(self) -> None:
        # The message often quotes the server (its version, an error body): one clean line.
        object.__setattr__(self, "message", clean_text(self.message))

    @property
    def up(self) -> bool:
        return self.status is BackendStatus.RUNNING


@dataclass(frozen=True)
class BackendStartResult:
    success: bool
    endpoint: str | None = None
    pid: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class ModelPullProgress:
    model_id: str
    status: str
    digest: str | None = None
    completed_bytes: int | None = None
    total_bytes: int | None = None

    @property
    def fraction(self) -> float | None:
        if not self.total_bytes or self.completed_bytes is None:
            return None
        return min(1.0, self.completed_bytes / self.total_bytes)


@dataclass(frozen=True)
class ModelPullResult:
    model_id: str
    success: bool
    error: str | None = None


@dataclass(frozen=True)
class GenerationRequest:
    """A prompt, or a whole conversation in ``messages`` (then ``prompt`` is ignored)."""

    prompt: str = ""
    system_prompt: str | None = None
    messages: Sequence[LocalChatMessage] = ()
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    repetition_penalty: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None


@dataclass(frozen=True)
class GenerationToken:
    text: str
    is_complete: bool = False
    finish_reason: str | None = None
    prompt_tokens: int | None = None  # only on the final token
    completion_tokens: int | None = None


@dataclass(frozen=True)
class GenerationResult:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None
    duration_s: float
    tokens_per_second: float

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class EmbeddingResult:
    model: str
    vectors: tuple[tuple[float, ...], ...]
    prompt_tokens: int | None = None

    @property
    def dimensions(self) -> int:
        return len(self.vectors[0]) if self.vectors else 0


@dataclass(frozen=True)
class BackendReport:
    """One row of the backends table: what a one-shot probe of a backend found."""

    name: str
    type: InferenceBackendType
    endpoint: str
    health: BackendHealth
    version: str | None = None
    model_count: int | None = None
    managed: bool = False
    preferred: bool = False

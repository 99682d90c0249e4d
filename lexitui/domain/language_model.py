"""What every language-model provider speaks, local or cloud: the roadmap's
``ILanguageModelProvider`` requests, answers, stream chunks and embeddings.

The router, the fallback manager, the gateway and the CLI pass these records around, so a local
model and a cloud API are interchangeable behind them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Re-exported: every request carries one (the enum lives with the roadmap's other enums).
from lexitui.domain.enums import TaskType as TaskType


@dataclass(frozen=True)
class Message:
    role: str  # "system", "user" or "assistant"
    content: str
    # Base64 images (OpenAI ``image_url`` data URIs and Ollama ``images`` both become this); a
    # provider that cannot read them refuses the request rather than dropping them.
    images: tuple[str, ...] = ()


@dataclass(frozen=True)
class LanguageModelRequest:
    """One generation request. ``model`` None lets the router choose; ``agent_id`` and
    ``workflow_id`` let orchestration overrides apply (the gateway reads them from a header or
    the OpenAI ``user`` field)."""

    messages: tuple[Message, ...] = ()
    prompt: str | None = None  # a plain completion instead of a chat
    model: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    task: TaskType = TaskType.CHAT
    agent_id: str | None = None
    workflow_id: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """All the text the model reads, for token estimates and the context-fit check."""
        parts = [m.content for m in self.messages]
        if self.prompt:
            parts.append(self.prompt)
        return "\n".join(parts)


@dataclass(frozen=True)
class TokenUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class LanguageModelResponse:
    text: str
    provider_id: str
    model_id: str
    usage: TokenUsage = field(default_factory=TokenUsage)
    finish_reason: str | None = None
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    # Decode and prompt-reading speeds as the engine measured them (a local model); None when
    # the provider does not say (a cloud API).
    tokens_per_second: float | None = None
    prompt_tokens_per_second: float | None = None


@dataclass(frozen=True)
class LanguageModelChunk:
    """A piece of a streamed answer; the last one has ``is_complete`` and the ``response``."""

    text: str
    index: int = 0
    is_complete: bool = False
    finish_reason: str | None = None
    response: LanguageModelResponse | None = None


@dataclass(frozen=True)
class LanguageModel:
    id: str
    name: str
    provider_id: str
    is_local: bool
    context_length: int | None = None  # None: the provider does not say
    supports_embeddings: bool = False
    is_loaded: bool = False  # a local model in memory now; one not loaded loads on first use
    size_bytes: int | None = None  # a local model's file size


@dataclass(frozen=True)
class EmbeddingRequest:
    texts: tuple[str, ...]
    model: str | None = None
    agent_id: str | None = None
    workflow_id: str | None = None


@dataclass(frozen=True)
class EmbeddingResponse:
    embeddings: list[list[float]]
    provider_id: str
    model_id: str
    prompt_tokens: int = 0

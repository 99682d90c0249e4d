"""The provider protocol every language-model provider follows (the roadmap's
``ILanguageModelProvider``): the local runtime and each cloud API alike.

``available_now`` is the router's cheap, synchronous view (no I/O: a model is loaded, a key is
configured); ``is_available`` may ask the provider. Routing decisions use the first so they stay
well under a millisecond.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from lexitui.domain.language_model import (
    EmbeddingRequest,
    EmbeddingResponse,
    LanguageModel,
    LanguageModelChunk,
    LanguageModelRequest,
    LanguageModelResponse,
)


@runtime_checkable
class LanguageModelProvider(Protocol):
    @property
    def provider_id(self) -> str: ...

    @property
    def provider_name(self) -> str: ...

    @property
    def is_local(self) -> bool: ...

    @property
    def default_model(self) -> str | None:
        """The model used when a request names none; None when nothing can answer now."""
        ...

    def available_now(self) -> tuple[bool, str]:
        """Whether a request could be sent now, and why not; no I/O."""
        ...

    def context_length(self, model: str | None) -> int | None:
        """The model's context window in tokens, when the provider knows it."""
        ...

    def known_models(self) -> tuple[str, ...]:
        """Model names this provider answers to; a request naming one is routed here."""
        ...

    async def is_available(self) -> bool: ...

    async def get_models(self) -> list[LanguageModel]: ...

    async def generate(self, request: LanguageModelRequest) -> LanguageModelResponse: ...

    def stream(self, request: LanguageModelRequest) -> AsyncIterator[LanguageModelChunk]:
        """Stream the answer; the last chunk has ``is_complete`` and the full response."""
        ...

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse: ...

    async def aclose(self) -> None: ...


def model_named(provider: LanguageModelProvider, model: str) -> str | None:
    """The model ``provider`` means by ``model``: the local provider knows the spellings of its
    installed models (``model_named``); others answer to the names they list."""
    resolve = getattr(provider, "model_named", None)
    if callable(resolve):
        named = resolve(model)
        return named if isinstance(named, str) else None
    return model if model in provider.known_models() else None

"""Models served by another backend (Ollama, or any backend lexitui connects to): loaded,
streamed, embedded and unloaded through that backend's own API (``ModelInstance``).

Such a backend manages its own memory and context, so there is no footprint check, no context
control and no snapshot for these models. Its request carries the sampling fields every backend
takes; the llama.cpp-only ones (min-p, typical-p, Mirostat, JSON formats, grammars) are refused
with the names of the fields rather than silently dropped.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import UTC, datetime

from lexitui.backends.base import InferenceBackend, ModelInstance
from lexitui.backends.errors import BackendError, BackendUnavailable
from lexitui.domain.backends import GenerationRequest
from lexitui.domain.enums import ModelFormat
from lexitui.domain.inference import (
    InvalidRequest,
    LocalEmbeddingRequest,
    LocalEmbeddingResult,
    LocalGenerationChunk,
    LocalGenerationMetrics,
    LocalGenerationRequest,
    LocalGenerationResult,
    LocalGenerationUsage,
)
from lexitui.domain.models import InstalledModel
from lexitui.runtime.embeddings import unit
from lexitui.runtime.errors import GenerationError

ENGINE_ONLY = (
    "min_p",
    "typical_p",
    "mirostat",
    "mirostat_tau",
    "mirostat_eta",
    "grammar",
    "format",
)


def backend_request(request: LocalGenerationRequest, backend: str) -> GenerationRequest:
    unsupported = [name for name in ENGINE_ONLY if getattr(request, name) is not None]
    if unsupported:
        fields = ", ".join(n.replace("_", "-") for n in unsupported)
        raise InvalidRequest(f"{backend} does not take {fields}: use the embedded engine")
    return GenerationRequest(
        prompt=request.prompt or "",
        system_prompt=request.system_prompt,
        messages=tuple(m for m in request.messages or ()),
        max_tokens=request.max_tokens,
        temperature=request.temperature,
        top_p=request.top_p,
        top_k=request.top_k,
        repetition_penalty=request.repetition_penalty,
        frequency_penalty=request.frequency_penalty,
        presence_penalty=request.presence_penalty,
        stop=request.stop_sequences or (),
        seed=request.seed,
    )


async def describe_remote_model(backend: InferenceBackend, model_id: str) -> InstalledModel:
    """The model as the backend lists it (its size where the backend says)."""
    size = 0
    try:
        listed = {m.id: m for m in await backend.list_models()}
        size = listed[model_id].size_bytes or 0 if model_id in listed else 0
    except BackendError:
        pass  # the load that follows reports the backend's reason
    return InstalledModel(
        id=model_id,
        name=model_id,
        path="",
        format=ModelFormat.GGUF,
        size_bytes=size,
        source=backend.name,
        registered_by_path=False,
        installed_at=datetime.now(UTC),
    )


async def stream_remote(
    instance: ModelInstance, request: LocalGenerationRequest
) -> AsyncGenerator[LocalGenerationChunk]:
    body = backend_request(request, instance.backend.name)
    started = time.perf_counter()
    first = last = 0.0
    pieces: list[str] = []
    prompt_tokens = completion_tokens = 0
    finish: str | None = None
    try:
        async with aclosing(instance.generate_stream(body)) as tokens:
            async for token in tokens:
                if token.is_complete:
                    finish = token.finish_reason
                    prompt_tokens = token.prompt_tokens or 0
                    completion_tokens = token.completion_tokens or 0
                if token.text:
                    last = time.perf_counter()
                    first = first or last
                    yield LocalGenerationChunk(text=token.text, token_index=len(pieces))
                    pieces.append(token.text)
    except BackendError as exc:
        retry = not pieces and isinstance(exc, BackendUnavailable)
        raise GenerationError(str(exc), retryable=retry) from exc
    completion_tokens = completion_tokens or len(pieces)
    span = (last - first) or float("inf")  # one token: no interval to measure
    result = LocalGenerationResult(
        text="".join(pieces),
        usage=LocalGenerationUsage(prompt_tokens, completion_tokens),
        finish_reason=finish,
        metrics=LocalGenerationMetrics(
            total_ms=(time.perf_counter() - started) * 1000,
            ttft_ms=(first - started) * 1000 if first else 0.0,
            generation_ms=(last - first) * 1000,
            # n-1 intervals between n tokens, as llama.cpp counts its generation speed.
            tokens_per_second=(completion_tokens - 1) / span if completion_tokens > 1 else 0.0,
        ),
        model_id=instance.model_id,
    )
    yield LocalGenerationChunk(
        text="", is_complete=True, finish_reason=finish, token_index=len(pieces), result=result
    )


async def embed_remote(
    instance: ModelInstance, request: LocalEmbeddingRequest
) -> LocalEmbeddingResult:
    try:
        answer = await instance.embed(list(request.texts))
    except BackendError as exc:
        raise GenerationError(str(exc)) from exc
    vectors = [list(v) for v in answer.vectors]
    if request.normalize:
        vectors = [unit(v) for v in vectors]
    return LocalEmbeddingResult(vectors, answer.dimensions, answer.prompt_tokens or 0)

"""A model served through the OpenAI-compatible API: ``/v1/chat/completions`` streamed as SSE
and ``/v1/embeddings``. Used by LM Studio, vLLM, LocalAI, text-generation-webui, custom
endpoints and llama.cpp's server alike.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from lexitui.backends.base import ModelInstance, chat_messages
from lexitui.backends.wire import sse_json
from lexitui.domain.backends import (
    EmbeddingResult,
    GenerationRequest,
    GenerationToken,
    ModelLoadOptions,
)

if TYPE_CHECKING:
    from lexitui.backends.openai_compat import OpenAICompatBackend


def chat_body(
    model: str, request: GenerationRequest, repetition_key: str | None = None
) -> dict[str, Any]:
    """The request body; only the parameters the caller set, so each server keeps its defaults.

    The repetition penalty is not part of the OpenAI API and each server names it its own way
    (``repeat_penalty`` in llama.cpp, ``repetition_penalty`` in vLLM): ``repetition_key``.
    """
    body: dict[str, Any] = {
        "model": model,
        "messages": chat_messages(request),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    optional = {
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "top_k": request.top_k,
        "frequency_penalty": request.frequency_penalty,
        "presence_penalty": request.presence_penalty,
        "seed": request.seed,
        "stop": list(request.stop) or None,
    }
    if repetition_key:
        optional[repetition_key] = request.repetition_penalty
    body.update({k: v for k, v in optional.items() if v is not None})
    return body


class OpenAIModelInstance(ModelInstance):
    def __init__(
        self, backend: OpenAICompatBackend, model_id: str, options: ModelLoadOptions | None
    ) -> None:
        super().__init__(backend, model_id, options)
        self._api = backend

    async def _stream(self, request: GenerationRequest) -> AsyncGenerator[GenerationToken, None]:
        api = self._api
        finish: str | None = None
        usage: dict[str, Any] = {}
        path = f"{api.api_prefix}/chat/completions"
        body = chat_body(self.model_id, request, api.repetition_key)
        async with api.transport.stream(
            "POST", path, json=body, idle_timeout=api.idle_timeout
        ) as resp:
            async for event in sse_json(resp, api.transport):
                usage = event.get("usage") or usage
                for choice in event.get("choices") or []:
                    finish = choice.get("finish_reason") or finish
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        yield GenerationToken(text)
        yield GenerationToken(
            "",
            is_complete=True,
            finish_reason=finish,
            prompt_tokens=_int(usage.get("prompt_tokens")),
            completion_tokens=_int(usage.get("completion_tokens")),
        )

    async def _embed(self, texts: list[str]) -> EmbeddingResult:
        api = self._api
        body = {"model": self.model_id, "input": texts}
        data = await api.transport.post_json(
            f"{api.api_prefix}/embeddings", body, timeout=api.request_timeout
        )
        rows = data.get("data") if isinstance(data, dict) else None
        if not isinstance(rows, list) or len(rows) != len(texts):
            raise api.transport.protocol_error("embeddings answer has no 'data' list per input")
        rows = sorted(rows, key=lambda r: r.get("index", 0) if isinstance(r, dict) else 0)
        try:
            vectors = tuple(tuple(float(x) for x in row["embedding"]) for row in rows)
        except (KeyError, TypeError, ValueError):
            raise api.transport.protocol_error("embeddings answer has a malformed vector") from None
        usage = data.get("usage") or {}
        return EmbeddingResult(
            model=str(data.get("model") or self.model_id),
            vectors=vectors,
            prompt_tokens=_int(usage.get("prompt_tokens")),
        )


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) else None

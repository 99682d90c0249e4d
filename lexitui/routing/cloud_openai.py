"""OpenAI's Chat Completions API, and any endpoint that speaks it (``openai_compatible``).

Streaming asks for ``stream_options.include_usage``: the server then sends one more chunk before
``data: [DONE]`` whose ``choices`` is empty and whose ``usage`` counts the whole request, so a
streamed answer is priced as exactly as a non-streamed one.

The token limit goes out as ``max_completion_tokens`` to OpenAI itself (its reasoning models
reject the deprecated ``max_tokens``) and as ``max_tokens`` to compatible servers and Azure,
which may predate the new name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from lexitui.domain.language_model import (
    EmbeddingRequest,
    EmbeddingResponse,
    LanguageModelRequest,
    TokenUsage,
)
from lexitui.routing.cloud_base import (
    OPENAI_EXTRAS,
    Answer,
    Call,
    CloudProvider,
    chat_messages,
    extra_parameters,
)
from lexitui.routing.cloud_http import SseEvent, json_object, kind_for, parse_error_body
from lexitui.routing.errors import FailureKind
from lexitui.routing.settings import ProviderSettings


class OpenAIProvider(CloudProvider):
    kind_name = "OpenAI"

    def __init__(self, settings: ProviderSettings, key: str | None) -> None:
        super().__init__(settings, key)
        if settings.kind == "openai_compatible":
            # A local vLLM or LM Studio often runs without a key.
            self.kind_name = "OpenAI-compatible"
            self.requires_key = False

    # -- where and how to call; Azure overrides these ---------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"} if self._key else {}

    def _chat_url(self, model: str) -> str:
        return f"{self.base_url}/chat/completions"

    def _embeddings_url(self, model: str) -> str:
        return f"{self.base_url}/embeddings"

    def _models_url(self) -> str:
        return f"{self.base_url}/models"

    def _max_tokens_field(self) -> str:
        return "max_completion_tokens" if self._settings.kind == "openai" else "max_tokens"

    def _model_in_body(self) -> bool:
        return True

    # -- the API's shapes -------------------------------------------------------------------

    def _chat_call(self, request: LanguageModelRequest, model: str, stream: bool) -> Call:
        body: dict[str, Any] = {}
        if self._model_in_body():
            body["model"] = model
        body["messages"] = [{"role": m.role, "content": m.content} for m in chat_messages(request)]
        if request.max_tokens is not None:
            body[self._max_tokens_field()] = request.max_tokens
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.top_p is not None:
            body["top_p"] = request.top_p
        if request.stop:
            body["stop"] = list(request.stop)
        if request.seed is not None:
            body["seed"] = request.seed
        body = extra_parameters(request, body, OPENAI_EXTRAS)
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        headers = {
            **self._auth_headers(),
            "Accept": "text/event-stream" if stream else "application/json",
        }
        return Call(self._chat_url(model), headers, body)

    def _read_answer(self, data: dict[str, Any]) -> Answer:
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise self._fail(FailureKind.SERVER_ERROR, "the answer has no choices")
        message = choices[0].get("message") or {}
        content = message.get("content") if isinstance(message, dict) else None
        return Answer(
            text=content if isinstance(content, str) else "",
            usage=_usage(data.get("usage")),
            finish_reason=_text(choices[0].get("finish_reason")),
        )

    async def _read_stream(
        self, events: AsyncIterator[SseEvent], answer: Answer
    ) -> AsyncIterator[str]:
        done = False
        async for event in events:
            if event.data.strip() == "[DONE]":
                done = True
                break
            data = json_object(event.data, self.provider_id, "a stream event")
            if data.get("error"):
                err = parse_error_body(data)
                label = err.code or err.type or "error"
                raise self._fail(kind_for(None, err), f"error in stream: {label}: {err.message}")
            if isinstance(data.get("usage"), dict):
                answer.usage = _usage(data["usage"])  # the include_usage chunk
            for choice in data.get("choices") or ():
                if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                    continue
                delta = choice.get("delta")
                content = delta.get("content") if isinstance(delta, dict) else None
                if isinstance(content, str) and content:
                    yield content
                if choice.get("finish_reason"):
                    answer.finish_reason = _text(choice["finish_reason"])
        # Some compatible servers omit [DONE]; a clean end after a finish reason is complete.
        if not done and answer.finish_reason is None:
            raise self._fail(FailureKind.SERVER_ERROR, "the stream ended before the answer did")

    # -- the rest of the protocol -----------------------------------------------------------

    async def is_available(self) -> bool:
        return await self._get_ok(self._models_url(), self._auth_headers())

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        model = self._model(request.model or self._embedding_model())
        body: dict[str, Any] = {"input": list(request.texts)}
        if self._model_in_body():
            body["model"] = model
        data = await self._post_json(
            Call(self._embeddings_url(model), self._auth_headers(), body), "the embeddings"
        )
        rows = data.get("data")
        if not isinstance(rows, list) or len(rows) != len(request.texts):
            raise self._fail(FailureKind.SERVER_ERROR, "the embeddings answer does not match")
        try:
            ordered = sorted(rows, key=lambda r: int(r.get("index", 0)))
            vectors = [[float(x) for x in row["embedding"]] for row in ordered]
        except (AttributeError, KeyError, TypeError, ValueError):
            raise self._fail(FailureKind.SERVER_ERROR, "malformed embeddings answer") from None
        return EmbeddingResponse(
            embeddings=vectors,
            provider_id=self.provider_id,
            model_id=model,
            prompt_tokens=_usage(data.get("usage")).prompt_tokens,
        )

    def _embedding_model(self) -> str | None:
        """A configured model named like an embedding model, before the chat default."""
        s = self._settings
        candidates = [*([s.model] if s.model else []), *s.models]
        return next((m for m in candidates if "embed" in m), None)


def _usage(raw: object) -> TokenUsage:
    if not isinstance(raw, dict):
        return TokenUsage()
    return TokenUsage(
        prompt_tokens=_count(raw.get("prompt_tokens")),
        completion_tokens=_count(raw.get("completion_tokens")),
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None

"""Anthropic's Messages API (``POST /v1/messages``).

Differences from OpenAI that matter here: system messages go in the top-level ``system`` field
(the API rejects a "system" role in ``messages``); ``max_tokens`` is required; a stream is named
events, ``message_start`` (input token count) → ``content_block_start`` → ``ping`` →
``content_block_delta``... → ``content_block_stop`` → ``message_delta`` (stop reason, output
token count) → ``message_stop``, and may carry an ``error`` event (``overloaded_error``) after
a 200 answer. Unknown event types are skipped: Anthropic may add new ones.
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
    ANTHROPIC_EXTRAS,
    Answer,
    Call,
    CloudProvider,
    chat_messages,
    extra_parameters,
)
from lexitui.routing.cloud_http import SseEvent, json_object, kind_for, parse_error_body
from lexitui.routing.errors import FailureKind, ProviderError

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 1024
STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


class AnthropicProvider(CloudProvider):
    kind_name = "Anthropic"

    @property
    def api_root(self) -> str:
        # Accept a base_url written with or without the /v1 its paths start with.
        root = self.base_url
        return root[: -len("/v1")] if root.endswith("/v1") else root

    def _headers(self, stream: bool = False) -> dict[str, str]:
        headers = {
            "anthropic-version": API_VERSION,
            "accept": "text/event-stream" if stream else "application/json",
        }
        if self._key:
            headers["x-api-key"] = self._key
        return headers

    def _chat_call(self, request: LanguageModelRequest, model: str, stream: bool) -> Call:
        messages = chat_messages(request)
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        body: dict[str, Any] = {
            "model": model,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": [
                {"role": m.role, "content": m.content} for m in messages if m.role != "system"
            ],
        }
        if system:
            body["system"] = system
        if request.temperature is not None:
            body["temperature"] = request.temperature
        elif request.top_p is not None:
            # Recent Claude models refuse temperature and top_p together; temperature wins.
            body["top_p"] = request.top_p
        if request.stop:
            body["stop_sequences"] = list(request.stop)
        body = extra_parameters(request, body, ANTHROPIC_EXTRAS)  # no seed: the API has none
        if stream:
            body["stream"] = True
        return Call(f"{self.api_root}/v1/messages", self._headers(stream), body)

    def _read_answer(self, data: dict[str, Any]) -> Answer:
        content = data.get("content")
        if not isinstance(content, list):
            raise self._fail(FailureKind.SERVER_ERROR, "the answer has no content")
        text = "".join(
            str(block.get("text", ""))
            for block in content
            if isinstance(block, dict) and block.get("type") == "text"
        )
        raw = data.get("usage")
        usage: dict[str, Any] = raw if isinstance(raw, dict) else {}
        return Answer(
            text=text,
            usage=TokenUsage(_count(usage.get("input_tokens")), _count(usage.get("output_tokens"))),
            finish_reason=_finish(data.get("stop_reason")),
        )

    async def _read_stream(
        self, events: AsyncIterator[SseEvent], answer: Answer
    ) -> AsyncIterator[str]:
        prompt_tokens = completion_tokens = 0
        done = False
        async for event in events:
            data = json_object(event.data, self.provider_id, "a stream event")
            kind = data.get("type") or event.event
            if kind == "message_start":
                message = data.get("message")
                usage = message.get("usage") if isinstance(message, dict) else None
                if isinstance(usage, dict):
                    prompt_tokens = _count(usage.get("input_tokens"))
                    completion_tokens = _count(usage.get("output_tokens"))
            elif kind == "content_block_delta":
                delta = data.get("delta")
                if isinstance(delta, dict) and delta.get("type") == "text_delta":
                    text = delta.get("text")
                    if isinstance(text, str) and text:
                        yield text
            elif kind == "message_delta":
                delta = data.get("delta")
                if isinstance(delta, dict) and delta.get("stop_reason"):
                    answer.finish_reason = _finish(delta["stop_reason"])
                usage = data.get("usage")
                if isinstance(usage, dict):  # counts here are cumulative, not increments
                    completion_tokens = _count(usage.get("output_tokens")) or completion_tokens
                    prompt_tokens = _count(usage.get("input_tokens")) or prompt_tokens
            elif kind == "message_stop":
                done = True
                break
            elif kind == "error":
                err = parse_error_body(data)
                label = err.type or "error"
                raise self._fail(kind_for(None, err), f"error in stream: {label}: {err.message}")
        answer.usage = TokenUsage(prompt_tokens, completion_tokens)
        if not done:
            raise self._fail(FailureKind.SERVER_ERROR, "the stream ended before message_stop")

    async def is_available(self) -> bool:
        return await self._get_ok(f"{self.api_root}/v1/models", self._headers())

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        raise ProviderError(
            self.provider_id, FailureKind.BAD_REQUEST, "Anthropic has no embeddings API"
        )


def _finish(reason: object) -> str | None:
    if not isinstance(reason, str) or not reason:
        return None
    return STOP_REASONS.get(reason, reason)


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0

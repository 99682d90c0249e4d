"""A fake Anthropic Messages API following the published docs.

``POST /v1/messages`` needs ``x-api-key``, ``anthropic-version`` and ``max_tokens``; a "system"
role inside ``messages`` is rejected (system text goes in the top-level ``system`` field).
Streaming sends named SSE events: ``message_start`` (usage.input_tokens) →
``content_block_start`` → ``ping`` → ``content_block_delta`` (text_delta)... →
``content_block_stop`` → ``message_delta`` (stop_reason, usage.output_tokens) →
``message_stop``. Errors are ``{"type": "error", "error": {"type", "message"}}``: 401
authentication_error, 402 billing_error (``quota_exceeded``), 429 rate_limit_error with
``retry-after``, 529 overloaded_error; mid-stream, an ``event: error`` with overloaded_error.
``GET /v1/models`` lists models.

Usage::

    async with FakeAnthropic() as cloud:
        settings = ProviderSettings("anthropic", "anthropic", cloud.base_url, model="claude-x")
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from tests.fakes.cloud_common import (
    FakeCloud,
    Seen,
    after_stall,
    cut,
    pieces,
    stop_cut,
    words_of,
)
from tests.fakes.ollama_http import Response, json_response

SSE = "text/event-stream; charset=utf-8"
STOP = {"end": "end_turn", "stop": "stop_sequence", "length": "max_tokens"}


def anthropic_error(status: int, type_: str, message: str) -> Response:
    body = {"type": "error", "error": {"type": type_, "message": message}, "request_id": "req_fake"}
    return json_response(status, body)


def event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode()


class FakeAnthropic(FakeCloud):
    @property
    def base_url(self) -> str:
        return self.origin

    async def route(self, seen: Seen) -> Response:
        denied = self._check_headers(seen)
        if denied is not None:
            return denied
        if seen.method == "GET" and seen.path == "/v1/models":
            data = [
                {
                    "type": "model",
                    "id": "claude-sonnet-4-5",
                    "display_name": "Claude Sonnet 4.5",
                    "created_at": "2025-09-29T00:00:00Z",
                }
            ]
            body = {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": None}
            return json_response(200, body)
        if seen.method == "POST" and seen.path == "/v1/messages":
            return self._messages(seen)
        return anthropic_error(404, "not_found_error", f"Not found: {seen.path}")

    def _check_headers(self, seen: Seen) -> Response | None:
        if self.api_key is not None:
            given = seen.headers.get("x-api-key", "")
            if given != self.api_key:
                shown = self.shown_key(given) if given else "(none)"
                return anthropic_error(401, "authentication_error", f"invalid x-api-key {shown}")
        if not seen.headers.get("anthropic-version"):
            return anthropic_error(
                400, "invalid_request_error", "anthropic-version: header is required"
            )
        return None

    def _fault(self) -> Response | None:
        if self.quota_exceeded:
            return anthropic_error(
                402, "billing_error", "Your credit balance is too low to access the API."
            )
        if self.take_rate_limit():
            response = anthropic_error(
                429, "rate_limit_error", "Number of requests has exceeded your rate limit."
            )
            response.headers["retry-after"] = self.retry_after
            return response
        if self.overloaded:
            return anthropic_error(529, "overloaded_error", "Overloaded")
        return None

    def _messages(self, seen: Seen) -> Response:
        fault = self._fault()
        if fault is not None:
            return fault
        body = seen.body if isinstance(seen.body, dict) else {}
        messages = body.get("messages")
        if not isinstance(body.get("max_tokens"), int):
            return anthropic_error(400, "invalid_request_error", "max_tokens: Field required")
        if not isinstance(messages, list) or not messages:
            return anthropic_error(400, "invalid_request_error", "messages: Field required")
        if any(m.get("role") not in ("user", "assistant") for m in messages):
            return anthropic_error(
                400,
                "invalid_request_error",
                'messages: Unexpected role "system". The Messages API accepts a top-level '
                '`system` parameter, not "system" as an input message role.',
            )
        system = body.get("system")
        words, prompt_tokens = words_of(messages, system if isinstance(system, str) else "")
        words, why = stop_cut(words, body["max_tokens"], body.get("stop_sequences"))
        model = str(body.get("model", ""))
        if body.get("stream"):
            stream = self._events(model, words, STOP[why], prompt_tokens)
            return Response(200, content_type=SSE, stream=stream)
        answer = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": " ".join(words)}],
            "stop_reason": STOP[why],
            "stop_sequence": None,
            "usage": {"input_tokens": prompt_tokens, "output_tokens": len(words)},
        }
        data = json.dumps(answer).encode()
        if self.stall_s:
            return Response(200, stream=after_stall(self.stall_s, [data]))
        return Response(200, data)

    async def _events(
        self, model: str, words: list[str], stop: str, prompt_tokens: int
    ) -> AsyncIterator[bytes]:
        if self.stall_s:
            async for _ in after_stall(self.stall_s, []):
                pass
        message: dict[str, Any] = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": prompt_tokens, "output_tokens": 1},
        }
        yield event("message_start", {"message": message})
        yield event(
            "content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}
        )
        yield event("ping", {})
        for i, piece in enumerate(pieces(words)):
            if self.break_mid_stream and i == self.break_after_words:
                if self.cut_connection:
                    raise cut()
                error = {"type": "overloaded_error", "message": "Overloaded"}
                yield event("error", {"error": error})
                return
            delta = {"type": "text_delta", "text": piece}
            yield event("content_block_delta", {"index": 0, "delta": delta})
        yield event("content_block_stop", {"index": 0})
        yield event(
            "message_delta",
            {
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": len(words)},
            },
        )
        yield event("message_stop", {})

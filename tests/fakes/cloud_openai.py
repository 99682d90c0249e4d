"""A fake OpenAI API, and Azure OpenAI's deployment paths, following the published REST docs.

OpenAI: ``POST /v1/chat/completions`` (JSON, or SSE ``data:`` chunks ending ``data: [DONE]``;
with ``stream_options.include_usage`` every chunk has ``"usage": null`` and one last chunk with
empty ``choices`` carries the usage), ``POST /v1/embeddings``, ``GET /v1/models``; the key is
``Authorization: Bearer``. Azure: ``/openai/deployments/{name}/chat/completions`` and
``/embeddings`` with ``?api-version=`` and an ``api-key`` header, and ``GET /openai/models``.
Errors use OpenAI's body ``{"error": {"message", "type", "param", "code"}}``.

Usage::

    async with FakeOpenAI() as cloud:
        settings = ProviderSettings("openai", "openai", cloud.base_url, model="gpt-4o-mini")
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from tests.fakes.cloud_common import (
    FakeCloud,
    Seen,
    after_stall,
    cut,
    pieces,
    stop_cut,
    vector,
    words_of,
)
from tests.fakes.ollama_http import Response, json_response

SSE = "text/event-stream; charset=utf-8"
FINISH = {"end": "stop", "stop": "stop", "length": "length"}


def openai_error(status: int, message: str, type_: str, code: str | None = None) -> Response:
    body = {"error": {"message": message, "type": type_, "param": None, "code": code}}
    return json_response(status, body)


class FakeOpenAI(FakeCloud):
    def __init__(self, api_key: str | None = None, deployments: dict[str, str] | None = None):
        super().__init__(**({} if api_key is None else {"api_key": api_key}))
        self.deployments = deployments or {}  # Azure: deployment name -> model; empty: any name
        self.api_version: str | None = None  # the api-version Azure requests carried

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    @property
    def azure_url(self) -> str:
        return self.origin

    async def route(self, seen: Seen) -> Response:
        azure = seen.path.startswith("/openai/")
        denied = self._auth(seen, azure)
        if denied is not None:
            return denied
        if azure:
            return await self._azure(seen)
        if seen.method == "GET" and seen.path == "/v1/models":
            return self._models()
        if seen.method == "POST" and seen.path == "/v1/chat/completions":
            return self._chat(seen, str((seen.body or {}).get("model", "")))
        if seen.method == "POST" and seen.path == "/v1/embeddings":
            return self._embeddings(seen, str((seen.body or {}).get("model", "")))
        return openai_error(
            404, f"Invalid URL ({seen.method} {seen.path})", "invalid_request_error"
        )

    async def _azure(self, seen: Seen) -> Response:
        self.api_version = seen.query.get("api-version")
        if not self.api_version:
            return json_response(404, {"error": {"code": "404", "message": "Resource not found"}})
        if seen.method == "GET" and seen.path == "/openai/models":
            return self._models()
        parts = seen.path.split("/")  # "", "openai", "deployments", NAME, operation...
        if len(parts) < 5 or parts[2] != "deployments" or seen.method != "POST":
            return json_response(404, {"error": {"code": "404", "message": "Resource not found"}})
        name, operation = parts[3], "/".join(parts[4:])
        if self.deployments and name not in self.deployments:
            message = "The API deployment for this resource does not exist."
            return json_response(404, {"error": {"code": "DeploymentNotFound", "message": message}})
        model = self.deployments.get(name, name)
        if operation == "chat/completions":
            return self._chat(seen, model)
        if operation == "embeddings":
            return self._embeddings(seen, model)
        return json_response(404, {"error": {"code": "404", "message": "Resource not found"}})

    def _auth(self, seen: Seen, azure: bool) -> Response | None:
        if self.api_key is None:
            return None
        if azure:
            given = seen.headers.get("api-key", "")
            if given == self.api_key:
                return None
            message = (
                "Access denied due to invalid subscription key or wrong API endpoint. "
                f"(key {self.shown_key(given)})"
            )
            return json_response(401, {"error": {"code": "401", "message": message}})
        header = seen.headers.get("authorization", "")
        given = header.removeprefix("Bearer ").strip()
        if header.startswith("Bearer ") and given == self.api_key:
            return None
        if not given:
            message = "You didn't provide an API key."
        else:
            message = f"Incorrect API key provided: {self.shown_key(given)}."
        return openai_error(401, message, "invalid_request_error", "invalid_api_key")

    def _fault(self) -> Response | None:
        if self.quota_exceeded:
            return openai_error(
                429,
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
                "insufficient_quota",
            )
        if self.take_rate_limit():
            response = openai_error(
                429, "Rate limit reached for requests", "requests", "rate_limit_exceeded"
            )
            response.headers.update(
                {
                    "retry-after": self.retry_after,
                    "x-ratelimit-remaining-requests": "0",
                    "x-ratelimit-reset-requests": f"{self.retry_after}s",
                }
            )
            return response
        if self.overloaded:
            return openai_error(
                503, "The engine is currently overloaded, please try again later.", "server_error"
            )
        return None

    def _models(self) -> Response:
        ids = ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small"]
        data = [
            {"id": i, "object": "model", "created": 1700000000, "owned_by": "system"} for i in ids
        ]
        return json_response(200, {"object": "list", "data": data})

    def _chat(self, seen: Seen, model: str) -> Response:
        fault = self._fault()
        if fault is not None:
            return fault
        body = seen.body if isinstance(seen.body, dict) else {}
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return openai_error(400, "'messages' is a required property", "invalid_request_error")
        words, prompt_tokens = words_of(messages)
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        words, why = stop_cut(words, limit, body.get("stop"))
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(words),
            "total_tokens": prompt_tokens + len(words),
        }
        if body.get("stream"):
            include = bool((body.get("stream_options") or {}).get("include_usage"))
            events = self._chunks(model, words, FINISH[why], usage if include else None)
            return Response(200, content_type=SSE, stream=events)
        answer = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": f"{model}-2024-07-18",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": " ".join(words), "refusal": None},
                    "logprobs": None,
                    "finish_reason": FINISH[why],
                }
            ],
            "usage": usage,
            "system_fingerprint": "fp_fake",
        }
        data = json.dumps(answer).encode()
        if self.stall_s:
            return Response(200, stream=after_stall(self.stall_s, [data]))
        return Response(200, data)

    async def _chunks(
        self, model: str, words: list[str], finish: str, usage: dict[str, int] | None
    ) -> AsyncIterator[bytes]:
        def chunk(choices: list[dict[str, Any]], usage_value: Any = None) -> bytes:
            obj: dict[str, Any] = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": f"{model}-2024-07-18",
                "system_fingerprint": "fp_fake",
                "choices": choices,
            }
            if usage is not None:
                obj["usage"] = usage_value  # null on every chunk but the last (include_usage)
            return f"data: {json.dumps(obj)}\n\n".encode()

        def delta(content: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
            return {"index": 0, "delta": content, "logprobs": None, "finish_reason": reason}

        if self.stall_s:
            async for _ in after_stall(self.stall_s, []):
                pass
        yield chunk([delta({"role": "assistant", "content": "", "refusal": None})])
        for i, piece in enumerate(pieces(words)):
            if self.break_mid_stream and i == self.break_after_words:
                if self.cut_connection:
                    raise cut()
                message = "The server had an error while processing your request."
                error = {"error": {"message": message, "type": "server_error"}}
                yield f"data: {json.dumps(error)}\n\n".encode()
                return
            yield chunk([delta({"content": piece})])
        yield chunk([delta({}, finish)])
        if usage is not None:
            yield chunk([], usage)
        yield b"data: [DONE]\n\n"

    def _embeddings(self, seen: Seen, model: str) -> Response:
        fault = self._fault()
        if fault is not None:
            return fault
        body = seen.body if isinstance(seen.body, dict) else {}
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else texts
        if not isinstance(texts, list) or not texts:
            return openai_error(400, "'input' is a required property", "invalid_request_error")
        data = [
            {"object": "embedding", "index": i, "embedding": vector(str(t))}
            for i, t in enumerate(texts)
        ]
        tokens = sum(len(str(t).split()) for t in texts)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return json_response(200, {"object": "list", "data": data, "model": model, "usage": usage})

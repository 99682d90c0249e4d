"""Delegates generation to the real embedded llama.cpp engine and reads back real figures.

The engine speaks llama.cpp's API: ``/v1/chat/completions`` (SSE with a final ``timings`` and
``usage`` chunk), ``/completion`` (SSE; the last event carries ``timings`` and ``stop_type``),
``/v1/embeddings`` and ``/tokenize``. We turn those into text pieces and one ``Finish`` whose
counts and durations are the engine's own, so the Ollama-shaped figures are real, not invented.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

# Ollama option names that llama.cpp's server accepts under the same name.
SHARED_OPTIONS = (
    "temperature",
    "top_k",
    "top_p",
    "min_p",
    "typical_p",
    "seed",
    "stop",
    "repeat_penalty",
    "repeat_last_n",
    "presence_penalty",
    "frequency_penalty",
)


class EngineFailure(Exception):
    """The engine refused or failed; ``status`` is what Ollama would answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Finish:
    done_reason: str
    prompt_eval_count: int
    prompt_eval_duration: int
    eval_count: int
    eval_duration: int


def ms_to_ns(value: Any) -> int:
    return int(float(value or 0) * 1_000_000)


def engine_options(options: dict[str, Any], predict_key: str) -> dict[str, Any]:
    mapped = {key: options[key] for key in SHARED_OPTIONS if options.get(key) is not None}
    predict = options.get("num_predict")
    if isinstance(predict, int) and predict >= 0:  # -1 (infinite) and -2 (fill) are the default
        mapped[predict_key] = predict
    return mapped


def engine_error(status: int, body: bytes) -> EngineFailure:
    try:
        detail = json.loads(body).get("error", body.decode(errors="replace"))
    except (ValueError, AttributeError):
        detail = body.decode(errors="replace")
    message = detail.get("message", str(detail)) if isinstance(detail, dict) else str(detail)
    # llama.cpp's 400s are the caller's fault (bad option types); anything else is the runner's.
    return EngineFailure(400 if status == 400 else 500, message)


class Engine:
    def __init__(self, url: str | None) -> None:
        self.url = url

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[httpx.AsyncClient]:
        if not self.url:
            raise EngineFailure(500, "no inference engine is configured for this fake server")
        # No keep-alive: llama.cpp's server closes a connection after a streamed answer, and a
        # pooled connection reused after that fails with "Server disconnected".
        limits = httpx.Limits(max_keepalive_connections=0)
        timeout = httpx.Timeout(120.0, connect=5.0)
        async with httpx.AsyncClient(base_url=self.url, limits=limits, timeout=timeout) as client:
            yield client

    async def _events(
        self, path: str, payload: dict[str, Any]
    ) -> AsyncGenerator[dict[str, Any], None]:
        try:
            async with self._client() as client, client.stream("POST", path, json=payload) as r:
                if r.status_code != 200:
                    raise engine_error(r.status_code, await r.aread())
                async for line in r.aiter_lines():
                    data = line.removeprefix("data:").strip() if line.startswith("data:") else ""
                    if not data or data == "[DONE]":
                        continue
                    event = json.loads(data)
                    if "error" in event:
                        raise EngineFailure(500, str(event["error"]))
                    yield event
        except httpx.HTTPError as exc:
            raise EngineFailure(500, f"llama runner process no longer running: {exc!r}") from exc

    async def chat(
        self, messages: list[dict[str, Any]], options: dict[str, Any], fmt: Any
    ) -> AsyncGenerator[str | Finish, None]:
        payload: dict[str, Any] = {
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            **engine_options(options, "max_tokens"),
        }
        if fmt == "json":
            payload["response_format"] = {"type": "json_object"}
        elif isinstance(fmt, dict):
            payload["response_format"] = {"type": "json_schema", "json_schema": {"schema": fmt}}
        reason = "stop"
        async for event in self._events("/v1/chat/completions", payload):
            for choice in event.get("choices") or []:
                text = (choice.get("delta") or {}).get("content")
                if text:
                    yield text
                if choice.get("finish_reason"):
                    reason = "length" if choice["finish_reason"] == "length" else "stop"
            if "timings" in event:
                yield finish(reason, event["timings"], event.get("usage"))
                return

    async def complete(
        self, prompt: str, options: dict[str, Any], fmt: Any
    ) -> AsyncGenerator[str | Finish, None]:
        """Raw mode: the prompt goes to the model untemplated, as Ollama's ``raw: true``."""
        payload: dict[str, Any] = {
            "prompt": prompt,
            "stream": True,
            **engine_options(options, "n_predict"),
        }
        if fmt == "json" or isinstance(fmt, dict):
            payload["json_schema"] = fmt if isinstance(fmt, dict) else {"type": "object"}
        async for event in self._events("/completion", payload):
            if event.get("content"):
                yield str(event["content"])
            if event.get("stop") and "timings" in event:
                reason = "length" if event.get("stop_type") == "limit" else "stop"
                yield finish(reason, event["timings"], None)
                return

    async def embed(self, inputs: list[str]) -> tuple[list[list[float]], int]:
        if not inputs:
            return [], 0
        try:
            async with self._client() as client:
                r = await client.post("/v1/embeddings", json={"input": inputs})
        except httpx.HTTPError as exc:
            raise EngineFailure(500, f"llama runner process no longer running: {exc!r}") from exc
        if r.status_code != 200:
            raise engine_error(r.status_code, r.content)
        body = r.json()
        rows = sorted(body["data"], key=lambda row: row["index"])
        return [row["embedding"] for row in rows], int(
            body.get("usage", {}).get("prompt_tokens", 0)
        )

    async def health(self) -> None:
        """A cold load checks the runner is up, as Ollama waits for its runner to be healthy."""
        if not self.url:
            return  # no engine: loading and keep_alive still work, generation does not
        try:
            async with self._client() as client:
                r = await client.get("/health")
        except httpx.HTTPError as exc:
            raise EngineFailure(500, f"llama runner process has terminated: {exc!r}") from exc
        if r.status_code != 200:
            raise EngineFailure(500, f"llama runner not ready: {r.status_code}")

    async def tokenize(self, text: str) -> list[int]:
        async with self._client() as client:
            r = await client.post("/tokenize", json={"content": text})
        return [int(t) for t in r.json().get("tokens", [])] if r.status_code == 200 else []


def finish(reason: str, timings: dict[str, Any], usage: dict[str, Any] | None) -> Finish:
    # usage.prompt_tokens counts the whole prompt; timings.prompt_n only what was not cached.
    prompt_count = (usage or {}).get("prompt_tokens")
    if prompt_count is None:
        prompt_count = int(timings.get("prompt_n", 0)) + int(timings.get("cache_n", 0))
    return Finish(
        done_reason=reason,
        prompt_eval_count=int(prompt_count),
        prompt_eval_duration=ms_to_ns(timings.get("prompt_ms")),
        eval_count=int(timings.get("predicted_n", 0)),
        eval_duration=ms_to_ns(timings.get("predicted_ms")),
    )

"""Streams a chat answer from an OpenAI-compatible ``/v1/chat/completions`` endpoint.

Used for the embedded engine (llama.cpp's server) and any server speaking the same API. Yields
``TokenDelta`` pieces as they arrive and one final ``ChatFinished`` with measured figures: time to
first token from the moment the request was sent, and tokens per second over the generation
phase (first token to last), the same definition llama.cpp reports, so the two can be compared.
Cancelling the consumer closes the HTTP stream, which makes llama.cpp stop the generation.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lexitui.domain.enums import ChatRole
from lexitui.runtime.generation import error_text

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class ChatMessage:
    role: ChatRole
    content: str

    def as_json(self) -> dict[str, str]:
        return {"role": self.role.value, "content": self.content}


@dataclass(frozen=True)
class GenerationParams:
    max_tokens: int = 512
    temperature: float = 0.7
    top_p: float = 0.95
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            **self.extra,
        }
        if self.seed is not None:
            body["seed"] = self.seed
        return body


@dataclass(frozen=True)
class TokenDelta:
    text: str


@dataclass(frozen=True)
class ChatFinished:
    text: str
    completion_tokens: int
    prompt_tokens: int
    ttft_ms: float
    tokens_per_second: float
    duration_s: float
    finish_reason: str | None


class ChatError(RuntimeError):
    """The endpoint refused the request or broke the stream; the message carries its reason."""


async def stream_chat(
    client: httpx.AsyncClient,
    model: str,
    messages: Sequence[ChatMessage],
    params: GenerationParams | None = None,
) -> AsyncIterator[TokenDelta | ChatFinished]:
    body = {
        "model": model,
        "messages": [m.as_json() for m in messages],
        "stream": True,
        "stream_options": {"include_usage": True},
        **(params or GenerationParams()).as_json(),
    }
    started = time.perf_counter()
    first = last = 0.0
    pieces: list[str] = []
    chunks = 0
    usage: dict[str, Any] = {}
    finish: str | None = None
    # llama.cpp closes the connection after a streamed answer; asking for that up front keeps
    # the pool from handing a dead connection to the next request.
    headers = {"Connection": "close"}
    async with client.stream(
        "POST", "/v1/chat/completions", json=body, headers=headers, timeout=None
    ) as resp:
        if resp.status_code != 200:
            raise ChatError(
                error_text(resp.status_code, (await resp.aread()).decode("utf-8", "replace"))
            )
        async for data in _sse_data(resp):
            if data == "[DONE]":
                break
            event = json.loads(data)
            usage = event.get("usage") or usage
            for choice in event.get("choices", []):
                finish = choice.get("finish_reason") or finish
                text = (choice.get("delta") or {}).get("content")
                if text:
                    last = time.perf_counter()
                    first = first or last
                    chunks += 1
                    pieces.append(text)
                    yield TokenDelta(text)
    ended = time.perf_counter()
    tokens = int(usage.get("completion_tokens", chunks))
    generating = last - first
    yield ChatFinished(
        text="".join(pieces),
        completion_tokens=tokens,
        prompt_tokens=int(usage.get("prompt_tokens", 0)),
        ttft_ms=(first - started) * 1000 if first else 0.0,
        # n-1 intervals between n tokens: the first token's time belongs to TTFT.
        tokens_per_second=(tokens - 1) / generating if tokens > 1 and generating > 0 else 0.0,
        duration_s=ended - started,
        finish_reason=finish,
    )


async def _sse_data(resp: httpx.Response) -> AsyncIterator[str]:
    async for line in resp.aiter_lines():
        if line.startswith("data:"):
            yield line[5:].strip()
        elif line.startswith("error:"):
            raise ChatError(line[6:].strip())

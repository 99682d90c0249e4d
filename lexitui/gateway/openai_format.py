"""The router's answers out as OpenAI response objects and server-sent-event frames.

Shapes follow the published API: ``chat.completion``, ``chat.completion.chunk`` (first a
``delta.role``, then ``delta.content`` pieces, then a chunk with ``finish_reason``, then with
``stream_options.include_usage`` a chunk whose ``choices`` is empty and ``usage`` set, then
``data: [DONE]``), ``text_completion`` for the legacy endpoint (streamed the same way), the
embeddings ``list`` and the models ``list``.
"""

from __future__ import annotations

import base64
import json
import struct
import time
import uuid
from typing import Any

from lexitui.domain.language_model import (
    EmbeddingResponse,
    LanguageModel,
    LanguageModelResponse,
    TokenUsage,
)

DONE = b"data: [DONE]\n\n"
FINISH_REASONS = {"stop", "length", "content_filter", "tool_calls"}


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def now() -> int:
    return int(time.time())


def sse(payload: dict[str, Any]) -> bytes:
    # Compact JSON on one line: a "data:" field must not contain a raw newline.
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def finish_reason(raw: str | None) -> str:
    """OpenAI's vocabulary: engines say "eos", "max_tokens" and the like."""
    if raw in FINISH_REASONS:
        return raw
    if raw in ("max_tokens", "max_length", "limit"):
        return "length"
    return "stop"


def usage(tokens: TokenUsage) -> dict[str, int]:
    return {
        "prompt_tokens": tokens.prompt_tokens,
        "completion_tokens": tokens.completion_tokens,
        "total_tokens": tokens.total_tokens,
    }


def chat_completion(response: LanguageModelResponse, cid: str, created: int) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": response.model_id,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": response.text},
                "logprobs": None,
                "finish_reason": finish_reason(response.finish_reason),
            }
        ],
        "usage": usage(response.usage),
        "system_fingerprint": None,
    }


def text_completion(response: LanguageModelResponse, cid: str, created: int) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "text_completion",
        "created": created,
        "model": response.model_id,
        "choices": [
            {
                "index": 0,
                "text": response.text,
                "logprobs": None,
                "finish_reason": finish_reason(response.finish_reason),
            }
        ],
        "usage": usage(response.usage),
    }


def embeddings(response: EmbeddingResponse, encoding: str) -> dict[str, Any]:
    data = [
        {"object": "embedding", "index": i, "embedding": _vector(vector, encoding)}
        for i, vector in enumerate(response.embeddings)
    ]
    tokens = response.prompt_tokens
    return {
        "object": "list",
        "data": data,
        "model": response.model_id,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _vector(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "base64":
        # What OpenAI sends: little-endian float32s, base64-encoded (clients decode with numpy).
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return vector


def model_object(model: LanguageModel) -> dict[str, Any]:
    # ``created`` is not known for local files or cloud listings; 0 keeps the field an int.
    # ``loaded`` is ours (OpenAI's SDKs keep unknown fields): a local model not loaded yet is
    # still listed, since naming it loads it.
    return {
        "id": model.id,
        "object": "model",
        "created": 0,
        "owned_by": model.provider_id,
        "loaded": model.is_loaded if model.is_local else True,
    }


def model_list(models: list[LanguageModel]) -> dict[str, Any]:
    return {"object": "list", "data": [model_object(m) for m in models]}


class StreamFrames:
    """The SSE frames of one streamed chat or text completion, all with one id and time."""

    def __init__(
        self, chat: bool, cid: str, created: int, model: str, include_usage: bool = False
    ) -> None:
        self.chat = chat
        self.cid = cid
        self.created = created
        self.model = model
        self.include_usage = include_usage

    def start(self) -> bytes | None:
        """Chat streams open with the assistant role; text completions have no roles."""
        return self._frame({"role": "assistant", "content": ""}, None) if self.chat else None

    def text(self, text: str) -> bytes:
        return self._frame({"content": text} if self.chat else text, None)

    def finish(self, reason: str | None) -> bytes:
        return self._frame({} if self.chat else "", finish_reason(reason))

    def usage(self, tokens: TokenUsage) -> bytes:
        return sse({**self._envelope(), "choices": [], "usage": usage(tokens)})

    def _frame(self, delta: dict[str, Any] | str, reason: str | None) -> bytes:
        choice: dict[str, Any] = {"index": 0, "logprobs": None, "finish_reason": reason}
        if isinstance(delta, dict):
            choice["delta"] = delta
        else:
            choice["text"] = delta
        frame = {**self._envelope(), "choices": [choice]}
        if self.include_usage:
            frame["usage"] = None  # as documented: every chunk but the last has usage null
        return sse(frame)

    def _envelope(self) -> dict[str, Any]:
        kind = "chat.completion.chunk" if self.chat else "text_completion"
        return {"id": self.cid, "object": kind, "created": self.created, "model": self.model}

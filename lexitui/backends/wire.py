"""Reading what backends send: error bodies, Server-Sent Events and NDJSON streams.

OpenAI-style servers stream ``data: {json}`` events ending in ``data: [DONE]``; Ollama streams
one JSON object per line. Both may report a failure *inside* a stream that started with 200, as
an object with an ``error`` member, so every event is checked for one. Anything that is not
JSON is a protocol error naming the offending line, never a silent skip: a proxy page or a
half-written line would otherwise look like an empty answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol

from lexitui.backends.errors import BackendError

if TYPE_CHECKING:
    import httpx

SNIPPET = 80


class ErrorFactory(Protocol):
    def protocol_error(self, detail: str) -> BackendError: ...

    def remote_error(self, detail: str, status_code: int | None = None) -> BackendError: ...


def error_text(body: str) -> str:
    """The reason inside an error body, whichever of the common shapes the server uses."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, ValueError):
        return body.strip() or "(empty body)"
    reason = _reason(data)
    return reason if reason is not None else body.strip()


def _reason(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    # Ollama: {"error": "text"}; OpenAI/llama.cpp: {"error": {"message": ...}};
    # FastAPI (vLLM, text-generation-webui): {"detail": ...}; vLLM also {"message": ...}.
    for key in ("error", "detail", "message"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict):
            inner = value.get("message")
            if isinstance(inner, str) and inner:
                return inner
        if isinstance(value, list) and value:
            return "; ".join(str(v.get("msg", v)) if isinstance(v, dict) else str(v) for v in value)
    return None


def _object(line: str, errors: ErrorFactory) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        raise errors.protocol_error(f"malformed stream line: {line[:SNIPPET]!r}") from None
    if not isinstance(data, dict):
        raise errors.protocol_error(f"unexpected stream item: {line[:SNIPPET]!r}")
    reason = data.get("error")
    if reason:
        raise errors.remote_error(_reason(data) or str(reason))
    return data


async def sse_json(resp: httpx.Response, errors: ErrorFactory) -> AsyncIterator[dict[str, Any]]:
    """The JSON objects of an SSE stream, up to ``[DONE]`` or the end of the body."""
    async for raw in resp.aiter_lines():
        line = raw.strip()
        if not line or line.startswith(":"):
            continue  # keep-alive comments and event separators
        field, _, value = line.partition(":")
        value = value.strip()
        if field == "data":
            if value == "[DONE]":
                return
            yield _object(value, errors)
        elif field == "error":
            raise errors.remote_error(error_text(value))
        elif field not in ("event", "id", "retry"):
            raise errors.protocol_error(f"malformed stream line: {line[:SNIPPET]!r}")


async def ndjson(resp: httpx.Response, errors: ErrorFactory) -> AsyncIterator[dict[str, Any]]:
    """The objects of a newline-delimited JSON stream (Ollama's streaming answers)."""
    async for raw in resp.aiter_lines():
        line = raw.strip()
        if line:
            yield _object(line, errors)

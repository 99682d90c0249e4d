"""What the cloud providers share: one httpx client each, errors in the fallback manager's
words, ``retry-after`` parsing and a Server-Sent Events reader.

Providers never retry: they classify the failure (``FailureKind``) and pass on how long the
server asked us to wait, and the fallback manager decides. Two rules matter most there: a 429
whose code is ``insufficient_quota`` (OpenAI) or a billing error (Anthropic) is a spend limit,
not a rate limit, so retrying cannot help; and anything that fails after the first streamed text
is ``STREAM_BROKEN``, because a retry elsewhere would repeat text the user already saw.

Redirects are never followed (K3): httpx keeps ``api-key`` / ``x-api-key`` headers on a redirect
to another host, and a cloud API that redirects a POST is misconfigured anyway.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from lexitui.routing.errors import FailureKind, ProviderError

CONNECT_TIMEOUT_S = 5.0
MESSAGE_LIMIT = 300
_WAITABLE = (FailureKind.RATE_LIMITED, FailureKind.OVERLOADED)  # kinds a retry-after applies to
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def make_client(timeout_s: float) -> httpx.AsyncClient:
    """A client for one provider: the configured read timeout, a short connect timeout."""
    timeout = httpx.Timeout(timeout_s, connect=min(CONNECT_TIMEOUT_S, timeout_s))
    # trust_env off: ~/.netrc could add credentials nobody configured for this endpoint.
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)


@dataclass(frozen=True)
class ErrorBody:
    """The parts of an OpenAI- or Anthropic-shaped error body the mapping needs."""

    type: str = ""
    code: str = ""
    message: str = ""


def parse_error_body(body: bytes | str | Mapping[str, Any]) -> ErrorBody:
    """``{"error": {"message", "type", "code"}}`` (OpenAI, Azure) or
    ``{"type": "error", "error": {"type", "message"}}`` (Anthropic); plain text otherwise."""
    data: Any = body
    if isinstance(body, bytes | str):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            data = json.loads(text)
        except ValueError:
            return ErrorBody(message=text.strip()[:MESSAGE_LIMIT])
    if not isinstance(data, Mapping):
        return ErrorBody(message=str(data)[:MESSAGE_LIMIT])
    error = data.get("error")
    if isinstance(error, str):
        return ErrorBody(message=error)
    if not isinstance(error, Mapping):
        return ErrorBody(message=str(data.get("message") or data.get("detail") or ""))
    return ErrorBody(
        type=str(error.get("type") or ""),
        code=str(error.get("code") or ""),
        message=str(error.get("message") or ""),
    )


def kind_for(status: int | None, err: ErrorBody) -> FailureKind:
    """The failure kind for an HTTP status and error body (status None: a mid-stream error)."""
    tags = {err.type, err.code}
    if tags & {"insufficient_quota", "billing_error"} or "credit balance" in err.message.lower():
        return FailureKind.QUOTA_EXCEEDED  # a spend limit: waiting does not help
    if status == 402:
        return FailureKind.QUOTA_EXCEEDED
    if status == 429 or "rate_limit_error" in tags or "rate_limit_exceeded" in tags:
        return FailureKind.RATE_LIMITED
    if status in (503, 529) or "overloaded_error" in tags:
        return FailureKind.OVERLOADED
    if status in (401, 403) or tags & {"authentication_error", "permission_error"}:
        return FailureKind.AUTH
    if status in (408, 504) or "timeout_error" in tags:
        return FailureKind.TIMEOUT
    if status is not None and 400 <= status < 500 and status != 409:
        return FailureKind.BAD_REQUEST
    if status is None and tags & {"invalid_request_error", "not_found_error"}:
        return FailureKind.BAD_REQUEST
    return FailureKind.SERVER_ERROR


def retry_after_s(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """How long the server asked us to wait: ``retry-after-ms``, ``retry-after`` (seconds or an
    HTTP date), else OpenAI's ``x-ratelimit-reset-*`` for the limit that ran out."""
    lower = {k.lower(): v for k, v in headers.items()}
    value = lower.get("retry-after-ms")
    if value is not None:
        seconds = _number(value)
        if seconds is not None:
            return seconds / 1000
    value = lower.get("retry-after")
    if value is not None:
        seconds = _number(value)
        if seconds is not None:
            return seconds
        try:
            when = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None:
            return max(0.0, when - (time.time() if now is None else now))
    resets = [
        _duration(lower[f"x-ratelimit-reset-{limit}"])
        for limit in ("requests", "tokens")
        if f"x-ratelimit-reset-{limit}" in lower
        and lower.get(f"x-ratelimit-remaining-{limit}", "0") == "0"
    ]
    known = [r for r in resets if r is not None]
    return max(known) if known else None


def _number(value: str) -> float | None:
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _duration(value: str) -> float | None:
    """``"1s"``, ``"6m0s"``, ``"20ms"``, ``"1h2m3.5s"`` in seconds."""
    parts = _DURATION_PART.findall(value.strip())
    if not parts or "".join(n + u for n, u in parts) != value.strip():
        return _number(value)
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(n) * scale[u] for n, u in parts)


def error_from_response(
    provider_id: str, status: int, body: bytes, headers: Mapping[str, str]
) -> ProviderError:
    """A non-2xx answer as a ProviderError (the caller redacts the key from the message)."""
    if 300 <= status < 400:
        host = urlsplit(headers.get("location", "")).netloc or "elsewhere"
        return ProviderError(
            provider_id,
            FailureKind.SERVER_ERROR,
            f"HTTP {status} redirect to {host} not followed (the API key stays with "
            "the configured host); check base_url",
            status=status,
        )
    err = parse_error_body(body)
    kind = kind_for(status, err)
    label = err.code if err.code and err.code != str(status) else err.type
    detail = f"HTTP {status}" + (f" {label}" if label else "")
    message = err.message or httpx.codes.get_reason_phrase(status) or "no reason given"
    wait = retry_after_s(headers) if kind in _WAITABLE else None
    return ProviderError(
        provider_id, kind, f"{detail}: {message[:MESSAGE_LIMIT]}", status=status, retry_after_s=wait
    )


def error_from_exception(provider_id: str, exc: Exception, *, started: bool) -> ProviderError:
    """A transport failure; ``started``: text was already streamed, so it is STREAM_BROKEN."""
    reason = _describe(exc)
    if started:
        return ProviderError(provider_id, FailureKind.STREAM_BROKEN, f"stream broke: {reason}")
    if isinstance(exc, httpx.TimeoutException):
        kind = FailureKind.TIMEOUT
    elif isinstance(exc, httpx.ConnectError):
        kind = FailureKind.UNAVAILABLE
    elif isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        kind = FailureKind.BAD_REQUEST
    else:
        kind = FailureKind.SERVER_ERROR
    return ProviderError(provider_id, kind, reason)


def _describe(exc: Exception) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect timed out"
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time (read timed out)"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {exc or type(exc).__name__}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server closed the connection mid-answer"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass(frozen=True)
class SseEvent:
    event: str | None  # the ``event:`` name; None when the server sent data lines only
    data: str


async def sse_events(resp: httpx.Response) -> AsyncIterator[SseEvent]:
    """The events of a ``text/event-stream`` body: ``event:``/``data:`` lines up to a blank
    line; several ``data:`` lines join with newlines; ``:`` comments are keep-alives."""
    event: str | None = None
    data: list[str] = []
    async for line in resp.aiter_lines():
        line = line.rstrip("\r")
        if not line:
            if data:
                yield SseEvent(event, "\n".join(data))
            event, data = None, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if data:  # a last event without its blank line
        yield SseEvent(event, "\n".join(data))


def json_object(text: str | bytes, provider_id: str, what: str) -> dict[str, Any]:
    """Parse a JSON object from the server; anything else is a SERVER_ERROR."""
    try:
        data = json.loads(text)
    except ValueError:
        snippet = (text.decode("utf-8", "replace") if isinstance(text, bytes) else text)[:80]
        raise ProviderError(
            provider_id, FailureKind.SERVER_ERROR, f"malformed JSON in {what}: {snippet!r}"
        ) from None
    if not isinstance(data, dict):
        raise ProviderError(provider_id, FailureKind.SERVER_ERROR, f"{what} is not a JSON object")
    return data

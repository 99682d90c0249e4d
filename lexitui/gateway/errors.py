"""OpenAI-shaped errors for the gateway, and the status each failure deserves.

Clients of an OpenAI-compatible server branch on the HTTP status (the official SDKs raise
``RateLimitError`` for 429, retry 429/5xx, give up on 4xx), so every failure the router can
report is mapped to a status *before* a 200 is sent. The body is always
``{"error": {"message", "type", "param", "code"}}``; messages never carry an API key (provider
errors are written without one, and the gateway key is never echoed).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from lexitui.config import ConfigError
from lexitui.domain.inference import InvalidRequest
from lexitui.editions.refusals import EditionRefusal
from lexitui.routing.errors import (
    AllProvidersFailed,
    BudgetExceeded,
    FailureKind,
    ProviderError,
    RoutingError,
    UnknownModel,
)

log = logging.getLogger(__name__)


class GatewayConfigError(ConfigError):
    """The gateway cannot start as configured (no key off loopback, a bad port); a
    ``ConfigError`` so the CLI prints it as one line instead of a traceback."""


@dataclass(eq=False)  # exceptions compare and hash by identity
class ApiError(Exception):
    """An error answer: the HTTP status and the OpenAI error object's fields."""

    status: int
    message: str
    type: str = "invalid_request_error"
    param: str | None = None
    code: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, "invalid_request_error", param, code)


def not_found(method: str, path: str) -> ApiError:
    return ApiError(404, f"Unknown request URL: {method} {path}.", code="unknown_url")


def unauthorized(present: bool) -> ApiError:
    # The key a client sent is never repeated back: it may be a real key for another service.
    message = (
        "Incorrect API key provided."
        if present
        else "Missing API key: send it as 'Authorization: Bearer KEY'."
    )
    return ApiError(
        401,
        message,
        code="invalid_api_key",
        headers=[("www-authenticate", 'Bearer realm="lexitui"')],
    )


# ProviderError kinds -> (status, type, code). Upstream auth failures are the gateway's
# problem, not the caller's, so they are 502: a 401 would tell the client its own key is bad.
_BY_KIND: dict[FailureKind, tuple[int, str, str]] = {
    FailureKind.BAD_REQUEST: (400, "invalid_request_error", "bad_request"),
    FailureKind.RATE_LIMITED: (429, "rate_limit_error", "rate_limit_exceeded"),
    FailureKind.QUOTA_EXCEEDED: (429, "insufficient_quota", "insufficient_quota"),
    FailureKind.TIMEOUT: (504, "timeout_error", "timeout"),
    FailureKind.UNAVAILABLE: (503, "server_error", "service_unavailable"),
    FailureKind.OVERLOADED: (503, "server_error", "overloaded"),
    FailureKind.AUTH: (502, "upstream_error", "upstream_auth_failed"),
    FailureKind.SERVER_ERROR: (502, "upstream_error", "upstream_error"),
    FailureKind.STREAM_BROKEN: (502, "upstream_error", "stream_broken"),
}


def from_exception(exc: BaseException) -> ApiError:
    """The answer for ``exc``; anything unexpected is a 500 whose details stay in the log."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, InvalidRequest):
        return invalid(str(exc))
    if isinstance(exc, EditionRefusal):  # the user's edition: neither a bad request nor a retry
        return ApiError(403, exc.message, "permission_error", None, exc.code)
    if isinstance(exc, BudgetExceeded):
        return ApiError(429, exc.message, "insufficient_quota", None, "insufficient_quota")
    if isinstance(exc, ProviderError) and exc.kind is FailureKind.BAD_REQUEST and exc.status == 404:
        # A provider that has no such model (a cloud's 404, a local model gone meanwhile).
        return ApiError(404, str(exc), "invalid_request_error", "model", "model_not_found")
    if isinstance(exc, ProviderError):
        status, kind, code = _BY_KIND.get(exc.kind, (502, "upstream_error", "upstream_error"))
        error = ApiError(status, str(exc), kind, None, code)
        if exc.retry_after_s is not None and status in (429, 503):
            # Whole seconds, rounded up: clients that honour Retry-After must not come back early.
            error.headers.append(("retry-after", str(max(0, math.ceil(exc.retry_after_s)))))
        return error
    if isinstance(exc, UnknownModel):
        return ApiError(404, str(exc), "invalid_request_error", "model", "model_not_found")
    if isinstance(exc, AllProvidersFailed):
        return ApiError(503, str(exc), "server_error", None, "all_providers_failed")
    if isinstance(exc, RoutingError):
        return ApiError(503, str(exc), "server_error", None, "no_provider")
    log.exception("gateway: unexpected error", exc_info=exc)
    return ApiError(500, "The server had an error while processing your request.", "server_error")

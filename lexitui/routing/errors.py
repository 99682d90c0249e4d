"""Why a provider could not answer, in the words the fallback rules need.

Each error says what kind of failure it was (the fallback manager retries, falls back or stops
by kind), which provider failed and, for rate limits, how long the provider asked us to wait.
Messages never carry an API key.
"""

from __future__ import annotations

from enum import StrEnum


class FailureKind(StrEnum):
    UNAVAILABLE = "unavailable"  # nothing loaded, connection refused, no key configured
    TIMEOUT = "timeout"  # no answer (or no first token) in time
    RATE_LIMITED = "rate_limited"  # 429: try again later
    OVERLOADED = "overloaded"  # Anthropic's 529, a 503 from a busy server
    QUOTA_EXCEEDED = "quota_exceeded"  # spend limit or budget: retrying does not help
    AUTH = "auth"  # 401/403: a bad or missing key
    BAD_REQUEST = "bad_request"  # 400/404/422: the request itself is wrong, nobody can answer it
    SERVER_ERROR = "server_error"  # 5xx and malformed answers
    STREAM_BROKEN = "stream_broken"  # failed after the first token: never retried


class ProviderError(Exception):
    def __init__(
        self,
        provider_id: str,
        kind: FailureKind,
        message: str,
        *,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(f"{provider_id}: {message}")
        self.provider_id = provider_id
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after_s = retry_after_s


class RoutingError(Exception):
    """No provider could take the request; the message says why for each one considered."""


class UnknownModel(RoutingError):
    """The request names a model that is neither installed nor offered by any provider: an
    OpenAI 404 ``model_not_found`` (and Ollama's "model not found"), never an answer from
    another model."""

    def __init__(self, model: str) -> None:
        super().__init__(f"The model '{model}' does not exist.")
        self.model = model


class AllProvidersFailed(RoutingError):
    def __init__(self, message: str, errors: list[ProviderError]) -> None:
        super().__init__(message)
        self.errors = errors


class BudgetExceeded(ProviderError):
    """A cloud provider was chosen but the daily or monthly budget is spent."""

    def __init__(self, provider_id: str, message: str) -> None:
        super().__init__(provider_id, FailureKind.QUOTA_EXCEEDED, message)

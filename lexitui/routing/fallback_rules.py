"""What to try next after a provider failed: the roadmap's automatic fallback rules.

* local unavailable -> the next provider (cloud)
* a timeout -> the same provider once more with a longer timeout (``retry_on_timeout``), then on
* a cloud rate limit -> local first if it is in the chain, else the next; the same provider again
  only when nothing else is left and ``retry_on_rate_limit`` allows
* quota or budget exceeded -> local only ("force local"): every other cloud provider is dropped
* overloaded or a server error -> the same provider again only with ``retry_on_error``
* a bad request -> stop: no provider can answer it; a broken stream -> stop: text was sent
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from lexitui.domain.routing import FallbackOptions
from lexitui.routing.errors import FailureKind, ProviderError
from lexitui.routing.provider import LanguageModelProvider

Entry = tuple[LanguageModelProvider, str]
MAX_RATE_LIMIT_WAIT_S = 10.0  # longer waits fall back (or fail) instead of holding the request


@dataclass
class AttemptPlan:
    """The chain still to try, the timeout of the next attempt and the retries spent."""

    queue: list[Entry]
    options: FallbackOptions
    local_timeout: timedelta | None = None
    attempts: int = 0
    retried: set[str] = field(default_factory=set)
    wait_s: float = 0.0  # sleep before the next attempt (a rate limit's retry-after)
    _timeout: timedelta | None = None

    def next(self) -> Entry | None:
        if not self.queue or self.attempts >= self.options.max_attempts:
            return None
        self.attempts += 1
        return self.queue[0]

    def timeout_s(self, provider: LanguageModelProvider) -> float:
        base = self.local_timeout if provider.is_local and self.local_timeout else None
        timeout = self._timeout or base or self.options.initial_timeout
        return timeout.total_seconds()

    def failed(self, error: ProviderError) -> bool:
        """Update the queue for ``error``; False when nothing more should be tried."""
        self.wait_s = 0.0
        current = self.queue[0]
        provider_id = current[0].provider_id
        kind = error.kind
        if kind in (FailureKind.BAD_REQUEST, FailureKind.STREAM_BROKEN):
            return False
        retry = (
            (kind == FailureKind.TIMEOUT and self.options.retry_on_timeout)
            or (
                kind in (FailureKind.OVERLOADED, FailureKind.SERVER_ERROR)
                and self.options.retry_on_error
            )
        ) and provider_id not in self.retried
        if retry:
            self.retried.add(provider_id)
            if kind == FailureKind.TIMEOUT:
                grown = self.timeout_s(current[0]) * self.options.timeout_multiplier
                self._timeout = timedelta(seconds=grown)
            return True
        self._timeout = None
        rest = self.queue[1:]
        if kind == FailureKind.QUOTA_EXCEEDED:
            rest = [e for e in rest if e[0].is_local]
        elif kind == FailureKind.RATE_LIMITED:
            rest = [e for e in rest if e[0].is_local] + [e for e in rest if not e[0].is_local]
            wait = error.retry_after_s or 1.0
            may_wait = self.options.retry_on_rate_limit and wait <= MAX_RATE_LIMIT_WAIT_S
            if not rest and may_wait and provider_id not in self.retried:
                self.retried.add(provider_id)
                self.wait_s = wait
                return True
        self.queue = rest
        return bool(rest)

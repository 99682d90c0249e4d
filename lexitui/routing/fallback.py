"""The fallback manager (the roadmap's ``IFallbackManager``): runs a request along the router's
chain until a provider answers.

Fallback happens only before the first streamed token: once text went out, a failure ends the
stream with ``STREAM_BROKEN`` and nothing is re-sent, so a client never sees text twice. Each
attempt is timed and kept in the history; failures feed the cooldowns, so a provider that keeps
failing stops receiving requests for a while.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TypeVar

from lexitui.domain.language_model import LanguageModelChunk, LanguageModelRequest, TaskType
from lexitui.domain.routing import (
    FallbackAttempt,
    FallbackConfig,
    FallbackOptions,
    FallbackResult,
)
from lexitui.routing.cooldowns import Cooldowns
from lexitui.routing.errors import AllProvidersFailed, FailureKind, ProviderError
from lexitui.routing.fallback_rules import AttemptPlan, Entry
from lexitui.routing.provider import LanguageModelProvider

T = TypeVar("T")
V = TypeVar("V")
OnFallback = Callable[[str, str, str], None]  # from provider, to provider, reason


@dataclass(frozen=True)
class _Failed:
    error: ProviderError


@dataclass
class Trace:
    """What happened to one request: every attempt, and the provider that answered."""

    attempts: list[FallbackAttempt] = field(default_factory=list)
    final: Entry | None = None
    first_token_at: float | None = None


class FallbackManager:
    def __init__(
        self,
        cooldowns: Cooldowns,
        providers: Callable[[], Sequence[LanguageModelProvider]],
    ) -> None:
        self._cooldowns = cooldowns
        self._providers = providers

    @property
    def config(self) -> FallbackConfig:
        return self._cooldowns.config

    async def configure(self, config: FallbackConfig) -> None:
        self._cooldowns.config = config

    async def get_fallback_chain(self, task: TaskType) -> list[LanguageModelProvider]:
        """The configured chain for ``task`` (provider ids in order), else every provider,
        local first."""
        by_id = {p.provider_id: p for p in self._providers()}
        chain = self.config.chains.get(task)
        if chain:
            return [by_id[i] for i in chain if i in by_id]
        return sorted(by_id.values(), key=lambda p: not p.is_local)

    async def execute_with_fallback(
        self,
        operation: Callable[[LanguageModelProvider, str], Awaitable[T]],
        chain: Sequence[Entry],
        options: FallbackOptions | None = None,
        *,
        local_timeout: timedelta | None = None,
        on_fallback: OnFallback | None = None,
    ) -> FallbackResult[T]:
        plan = AttemptPlan(list(chain), options or FallbackOptions(), local_timeout)
        history: list[FallbackAttempt] = []
        while (entry := self._next(plan)) is not None:
            provider, model = entry
            started = time.perf_counter()
            outcome = await self._try(plan, provider, operation(provider, model))
            if isinstance(outcome, _Failed):
                history.append(_attempt(entry, started, outcome.error))
                if not await self._after_failure(plan, outcome.error, on_fallback):
                    break
                continue
            history.append(_attempt(entry, started, None))
            return FallbackResult(True, outcome, provider.provider_id, len(history), tuple(history))
        return FallbackResult(False, None, None, len(history), tuple(history))

    async def stream(
        self,
        request: LanguageModelRequest,
        chain: Sequence[Entry],
        trace: Trace,
        options: FallbackOptions | None = None,
        *,
        local_timeout: timedelta | None = None,
        on_fallback: OnFallback | None = None,
    ) -> AsyncGenerator[LanguageModelChunk]:
        """Stream from the first provider of ``chain`` that produces a first chunk."""
        plan = AttemptPlan(list(chain), options or FallbackOptions(), local_timeout)
        errors: list[ProviderError] = []
        while (entry := self._next(plan)) is not None:
            provider, model = entry
            started = time.perf_counter()
            answer = provider.stream(replace(request, model=model or None))
            try:
                outcome = await self._try(plan, provider, anext(answer))
            except BaseException:
                await _close(answer)
                raise
            if isinstance(outcome, _Failed):
                await _close(answer)
                errors.append(outcome.error)
                trace.attempts.append(_attempt(entry, started, outcome.error))
                if not await self._after_failure(plan, outcome.error, on_fallback):
                    break
                continue
            trace.attempts.append(_attempt(entry, started, None))
            trace.final, trace.first_token_at = entry, time.perf_counter()
            # Closed however the consumer leaves (done, error, a client hanging up).
            try:
                yield outcome
                async for chunk in answer:
                    yield chunk
            except ProviderError as exc:
                raise ProviderError(
                    provider.provider_id,
                    FailureKind.STREAM_BROKEN,
                    f"the answer broke off after it started: {exc.message}",
                    status=exc.status,
                ) from exc
            finally:
                await _close(answer)
            return
        raise _all_failed(errors, chain)

    async def _try(
        self, plan: AttemptPlan, provider: LanguageModelProvider, call: Awaitable[V]
    ) -> V | _Failed:
        """One attempt within its timeout: the value, or why it failed; the cooldowns hear of
        both. Cancelled (a client hung up) or broken otherwise, it gives no verdict on the
        provider, so a probe is never left marked (which would skip the provider for good)."""
        self._cooldowns.begin(provider.provider_id)
        try:
            async with asyncio.timeout(plan.timeout_s(provider)):
                value = await call
        except (ProviderError, TimeoutError, StopAsyncIteration) as exc:
            return _Failed(_as_provider_error(exc, provider, plan))
        except BaseException:
            self._cooldowns.release(provider.provider_id)
            raise
        self._cooldowns.success(provider.provider_id)
        return value

    def _next(self, plan: AttemptPlan) -> Entry | None:
        """The next entry to try; a provider that started cooling down after this request was
        planned (other requests failed on it meanwhile) is passed over, not tried."""
        while (entry := plan.next()) is not None:
            if self._cooldowns.blocked(entry[0].provider_id) is None:
                return entry
            plan.attempts -= 1  # not an attempt
            plan.queue = plan.queue[1:]
        return None

    async def _after_failure(
        self, plan: AttemptPlan, error: ProviderError, on_fallback: OnFallback | None
    ) -> bool:
        failed_id = error.provider_id
        if error.kind == FailureKind.BAD_REQUEST:
            self._cooldowns.release(failed_id)
        else:
            self._cooldowns.failure(failed_id, retry_after_s=error.retry_after_s)
        go_on = plan.failed(error)
        if go_on and plan.queue and on_fallback is not None:
            to = plan.queue[0][0].provider_id
            if to != failed_id:
                on_fallback(failed_id, to, f"{error.kind.value}: {error.message}")
        if go_on and plan.wait_s:
            await asyncio.sleep(plan.wait_s)
        return go_on


async def _close(answer: object) -> None:
    close = getattr(answer, "aclose", None)
    if close is not None:
        await close()


def _as_provider_error(
    exc: BaseException, provider: LanguageModelProvider, plan: AttemptPlan
) -> ProviderError:
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, TimeoutError):
        return ProviderError(
            provider.provider_id,
            FailureKind.TIMEOUT,
            f"no answer within {plan.timeout_s(provider):.1f} s",
        )
    return ProviderError(provider.provider_id, FailureKind.SERVER_ERROR, "ended without answering")


def _attempt(entry: Entry, started: float, error: ProviderError | None) -> FallbackAttempt:
    return FallbackAttempt(
        provider_id=entry[0].provider_id,
        model_id=entry[1],
        success=error is None,
        duration=timedelta(seconds=time.perf_counter() - started),
        error=None if error is None else error.message,
        kind=None if error is None else error.kind.value,
    )


def _all_failed(errors: list[ProviderError], chain: Sequence[Entry]) -> Exception:
    if errors and len({e.provider_id for e in errors}) == 1:
        return errors[-1]  # one provider's failure keeps its kind: a rate limit stays a 429
    if not errors:
        return AllProvidersFailed(f"no provider was tried (chain of {len(chain)})", [])
    said = "; ".join(f"{e.provider_id}: {e.message}" for e in errors)
    return AllProvidersFailed(f"every provider failed: {said}", errors)

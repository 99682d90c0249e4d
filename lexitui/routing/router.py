"""The router (the roadmap's ``ILlmRouter``): picks a provider and a model for each request.

A decision is pure computation over what the providers say about themselves without I/O
(``available_now``, context size, requests in flight), the cooldowns, the budgets and the cost
and latency estimates, so it takes microseconds. It returns the whole ordered chain: the first
entry answers, the rest are the fallbacks in order. Every skipped provider's reason is kept, so
the decision can say *why* ("local model unavailable: no model is loaded").
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from lexitui.domain.language_model import LanguageModelRequest
from lexitui.domain.routing import (
    RoutingConfig,
    RoutingDecision,
    RoutingOptions,
    RoutingStrategy,
)
from lexitui.routing.cooldowns import Cooldowns
from lexitui.routing.errors import UnknownModel
from lexitui.routing.host_choice import hosts_by_load, spread_over
from lexitui.routing.provider import LanguageModelProvider, model_named
from lexitui.routing.strategies import Candidate, order_candidates
from lexitui.routing.tokens import estimate_tokens

# Estimates the router reads; the cost optimizer provides them (None: not known).
CostOf = Callable[[LanguageModelProvider, str, int, int], Decimal | None]
LatencyOf = Callable[[LanguageModelProvider, str, int], timedelta | None]


@dataclass(frozen=True)
class RoutePlan:
    decision: RoutingDecision
    chain: tuple[tuple[LanguageModelProvider, str], ...]  # (provider, model), first answers
    skipped: dict[str, str]  # provider id -> why it was not considered
    pinned: str | None = None  # the provider the request (or an override) names


class NoRoute(Exception):
    def __init__(self, message: str, skipped: dict[str, str]) -> None:
        super().__init__(message)
        self.skipped = skipped


class LlmRouter:
    def __init__(
        self,
        providers: Callable[[], Sequence[LanguageModelProvider]],
        config: RoutingConfig,
        cooldowns: Cooldowns,
        *,
        cost_of: CostOf | None = None,
        latency_of: LatencyOf | None = None,
        quality_of: Callable[[str], float] = lambda _: 0.5,
        budget_blocked: Callable[[], str | None] = lambda: None,
        chain_of: Callable[[LanguageModelRequest], Sequence[str]] = lambda _: (),
    ) -> None:
        self._providers = providers
        self.config = config
        self._cooldowns = cooldowns
        self._cost_of = cost_of
        self._latency_of = latency_of
        self._quality_of = quality_of
        self._budget_blocked = budget_blocked
        self._chain_of = chain_of
        self._turn = itertools.count()

    def strategy_for(
        self,
        request: LanguageModelRequest,
        options: RoutingOptions,
        config: RoutingConfig | None = None,
    ) -> RoutingStrategy:
        if options.strategy is not None:
            return options.strategy
        config = config or self.config
        return config.task_routing.get(request.task, config.default_strategy)

    def plan(
        self,
        request: LanguageModelRequest,
        options: RoutingOptions | None = None,
        *,
        config: RoutingConfig | None = None,
    ) -> RoutePlan:
        """The decision and chain for ``request``, under ``config`` (the user's edition's view
        of the router's config; the router's own when None)."""
        options = options or RoutingOptions()
        config = config or self.config
        strategy = self.strategy_for(request, options, config)
        prompt_tokens, output_tokens = estimate_tokens(request)
        providers = list(self._providers())
        pinned = options.provider_id or self._pinned(providers, request.model)
        # A model hosts serve goes to the least loaded of them, the others behind it.
        shared = set() if options.provider_id else spread_over(providers, pinned, request.model)
        if shared:
            pinned = None
        if request.model and not pinned and not shared:
            # Named, and nobody has it: answering with another model would hide the mistake.
            raise UnknownModel(request.model)
        considered = tuple(p.provider_id for p in providers)
        skipped: dict[str, str] = {}
        candidates: list[Candidate] = []
        full: list[Candidate] = []  # local models at their limit: they can still queue
        for provider in providers:
            if pinned and provider.provider_id != pinned:
                skipped[provider.provider_id] = f"the request asks for {pinned}"
                continue
            if shared and provider.provider_id not in shared:
                skipped[provider.provider_id] = f"it does not serve {request.model}"
                continue
            why = self._why_not(
                provider, request.model, strategy, options, config, prompt_tokens, output_tokens
            )
            if why:
                skipped[provider.provider_id] = why
                continue
            model = self._model_for(provider, request.model, pinned=pinned == provider.provider_id)
            candidate = Candidate(
                provider=provider,
                model=model,
                cost=self._cost_of(provider, model, prompt_tokens, output_tokens)
                if self._cost_of
                else None,
                latency=self._latency_of(provider, model, output_tokens)
                if self._latency_of
                else None,
                quality=self._quality_of(provider.provider_id),
                load=_load(provider, self.local_limit(provider)),
            )
            busy = self._busy(provider)
            if busy:
                skipped[provider.provider_id] = busy
                full.append(candidate)
            else:
                candidates.append(candidate)
        if not candidates and full:
            # Nowhere else to go: the request waits in the model's line for a free slot (with
            # the runtime's queue timeout) rather than being refused.
            candidates = full
            queued = {c.provider.provider_id: skipped.pop(c.provider.provider_id) for c in full}
        else:
            queued = {}
        ordered = order_candidates(
            strategy,
            candidates,
            preferred_cloud=config.preferred_cloud_provider,
            turn=next(self._turn),
        )
        ordered = hosts_by_load(_follow_chain(ordered, self._chain_of(request)))
        if not ordered:
            reasons = "; ".join(f"{k}: {v}" for k, v in skipped.items()) or "no providers"
            raise NoRoute(f"no provider can take this request ({reasons})", skipped)
        if not (options.allow_fallback and config.enable_fallback):
            ordered = ordered[:1]
        first = ordered[0]
        preferred_skipped = _preferred_skipped(strategy, first, skipped, providers)
        wanted = config.preferred_cloud_provider
        cloud_first = strategy in (RoutingStrategy.PREFER_CLOUD, RoutingStrategy.CLOUD_ONLY)
        if cloud_first and wanted in skipped and first.provider.provider_id != wanted:
            preferred_skipped[wanted] = skipped[wanted]  # the preferred cloud was passed over
        reason = _reason(strategy, first, preferred_skipped)
        if first.provider.provider_id in queued:
            reason += f" ({queued[first.provider.provider_id]}: it waits for a free slot)"
        decision = RoutingDecision(
            provider_id=first.provider.provider_id,
            model_id=first.model,
            reason=reason,
            used_strategy=strategy,
            was_fallback=bool(preferred_skipped),
            considered_providers=considered,
            estimated_cost=first.cost,
            estimated_latency=first.latency,
        )
        chain = tuple((c.provider, c.model) for c in ordered)
        if shared:
            pinned = first.provider.provider_id  # the request named a model only hosts serve
        return RoutePlan(decision, chain, skipped, pinned)

    def _why_not(
        self,
        provider: LanguageModelProvider,
        model: str | None,
        strategy: RoutingStrategy,
        options: RoutingOptions,
        config: RoutingConfig,
        prompt_tokens: int,
        output_tokens: int,
    ) -> str | None:
        if strategy == RoutingStrategy.LOCAL_ONLY and not provider.is_local:
            return "the strategy is local only"
        if strategy == RoutingStrategy.CLOUD_ONLY and provider.is_local:
            return "the strategy is cloud only"
        ok, why = _available(provider, model)
        if not ok:
            return why
        cooling = self._cooldowns.blocked(provider.provider_id)
        if cooling:
            return cooling
        if provider.is_local:
            return self._local_limits(provider, options, config, prompt_tokens, output_tokens)
        return self._budget_blocked()

    def _local_limits(
        self,
        provider: LanguageModelProvider,
        options: RoutingOptions,
        config: RoutingConfig,
        prompt_tokens: int,
        output_tokens: int,
    ) -> str | None:
        low = options.min_tokens_for_local or config.min_tokens_for_local
        high = options.max_tokens_for_local or config.max_tokens_for_local
        if low and prompt_tokens < low:
            return f"the prompt (~{prompt_tokens} tokens) is under the local minimum of {low}"
        if high and prompt_tokens > high:
            return f"the prompt (~{prompt_tokens} tokens) is over the local maximum of {high}"
        context = provider.context_length(None)
        if context and prompt_tokens + output_tokens > context:
            return (
                f"the prompt (~{prompt_tokens} tokens + {output_tokens} to answer) does not fit "
                f"the local model's context of {context}"
            )
        return None

    def local_limit(self, provider: LanguageModelProvider) -> int:
        """Requests the local model may hold before others go elsewhere: ``[routing]
        local_max_concurrent``, and never fewer than the loaded model's slots (a free slot
        always takes a request)."""
        return max(self.config.local_max_concurrent, _slots(provider) or 0)

    def _busy(self, provider: LanguageModelProvider) -> str | None:
        busy = _in_flight(provider)
        if not provider.is_local or busy is None:
            return None
        limit = self.local_limit(provider)
        if busy < limit:
            return None
        return f"the local model is busy ({busy} requests in flight, at most {limit})"

    def _pinned(self, providers: Sequence[LanguageModelProvider], model: str | None) -> str | None:
        """A model name that belongs to exactly one provider pins the request to it."""
        if not model:
            return None
        head = model.split(":", 1)[0].split("/", 1)[0]
        for provider in providers:
            if provider.provider_id in (model, head):
                return provider.provider_id
        for provider in providers:
            if model_named(provider, model) is not None:
                return provider.provider_id
        return None

    def _model_for(
        self, provider: LanguageModelProvider, model: str | None, *, pinned: bool = False
    ) -> str:
        if model:
            for prefix in (f"{provider.provider_id}:", f"{provider.provider_id}/"):
                if model.startswith(prefix):
                    return model[len(prefix) :]
            named = model_named(provider, model)
            if named is not None:
                return named
            # A request pinned here (by an override) asks this provider for that model.
            if pinned and not provider.is_local:
                return model
        preferred = self.config.preferred_cloud_model
        if preferred and provider.provider_id == self.config.preferred_cloud_provider:
            return preferred
        return provider.default_model or ""

    def with_config(self, config: RoutingConfig) -> None:
        self.config = config


def _available(provider: LanguageModelProvider, model: str | None) -> tuple[bool, str]:
    """Whether ``provider`` can take a request for ``model`` now: the local provider can load
    a named installed model (``available_for``); others answer for all their models."""
    check = getattr(provider, "available_for", None)
    if callable(check):
        ok, why = check(model)
        return bool(ok), str(why)
    return provider.available_now()


def _in_flight(provider: LanguageModelProvider) -> int | None:
    counter = getattr(provider, "in_flight", None)
    return int(counter()) if callable(counter) else None


def _slots(provider: LanguageModelProvider) -> int | None:
    counter = getattr(provider, "slots", None)
    value = counter() if callable(counter) else None
    return None if value is None else int(value)


def _load(provider: LanguageModelProvider, local_capacity: int) -> float:
    busy = _in_flight(provider) or 0
    return busy / local_capacity if provider.is_local else busy / 8


def _follow_chain(ordered: list[Candidate], chain: Sequence[str]) -> list[Candidate]:
    """A configured fallback chain for the task puts its providers first, in its order."""
    if not chain:
        return ordered
    rank = {provider_id: i for i, provider_id in enumerate(chain)}
    listed = sorted(
        (c for c in ordered if c.provider.provider_id in rank),
        key=lambda c: rank[c.provider.provider_id],
    )
    return listed or ordered


def _preferred_skipped(
    strategy: RoutingStrategy,
    first: Candidate,
    skipped: dict[str, str],
    providers: Sequence[LanguageModelProvider],
) -> dict[str, str]:
    """The providers the strategy would have picked before ``first``, and why they were not."""
    if strategy == RoutingStrategy.PREFER_LOCAL and not first.provider.is_local:
        return {
            p.provider_id: skipped[p.provider_id]
            for p in providers
            if p.is_local and p.provider_id in skipped
        }
    if strategy == RoutingStrategy.PREFER_CLOUD and first.provider.is_local:
        return {
            p.provider_id: skipped[p.provider_id]
            for p in providers
            if not p.is_local and p.provider_id in skipped
        }
    return {}


def _reason(strategy: RoutingStrategy, first: Candidate, preferred_skipped: dict[str, str]) -> str:
    where = "local" if first.provider.is_local else "cloud"
    if preferred_skipped:
        why = "; ".join(preferred_skipped.values())
        return f"Used {where} ({first.provider.provider_id}) due to: {why}"
    return f"{strategy.value}: {first.why}"

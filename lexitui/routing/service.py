"""Routing as one service: the providers, router, fallback manager, costs, budgets and
orchestration overrides wired together, with every request recorded.

The gateway, the CLI and the screens all send requests through ``stream``/``complete``/``embed``
here: the orchestration override applies, the router decides, the fallback manager runs the
chain, and the outcome (decision, tokens, latency, money) goes to the store and the live stream.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from reactivex.subject import Subject

from lexitui.domain.language_model import (
    EmbeddingRequest,
    EmbeddingResponse,
    LanguageModel,
    LanguageModelChunk,
    LanguageModelRequest,
    LanguageModelResponse,
    TaskType,
)
from lexitui.domain.routing import (
    FallbackOptions,
    RoutedRequestRecord,
    RoutingConfig,
    RoutingDecision,
    RoutingOptions,
    RoutingStats,
    RoutingStrategy,
)
from lexitui.editions.entitlements import OPEN, Entitlements
from lexitui.editions.refusals import EditionRefusal
from lexitui.editions.tiers import Action
from lexitui.events import EventBus, FallbackTriggered, RequestRouted
from lexitui.routing.cooldowns import Cooldowns
from lexitui.routing.edition_gates import RoutingGates
from lexitui.routing.errors import (
    AllProvidersFailed,
    BudgetExceeded,
    FailureKind,
    ProviderError,
    RoutingError,
    UnknownModel,
)
from lexitui.routing.fallback import FallbackManager, Trace
from lexitui.routing.images import refuse_images
from lexitui.routing.keys import KeyStore
from lexitui.routing.local_provider import LocalLlmProvider
from lexitui.routing.optimizer import CostPerformanceOptimizer
from lexitui.routing.orchestration import OrchestrationLlmIntegration
from lexitui.routing.provider import LanguageModelProvider
from lexitui.routing.recording import RequestRecorder
from lexitui.routing.router import LlmRouter, NoRoute, RoutePlan
from lexitui.routing.settings import RoutingSettings
from lexitui.routing.task_detect import with_detected_task
from lexitui.routing.usage_reports import UsageReports


@dataclass(frozen=True)
class RoutedRequest:
    provider: LanguageModelProvider
    model_id: str
    decision: RoutingDecision
    fallbacks: tuple[str, ...] = ()  # the providers tried next, in order, if it fails
    task: TaskType = TaskType.CHAT  # the task it was routed as (read from the prompt if unsaid)


class RoutingService:
    def __init__(
        self,
        settings: RoutingSettings,
        local: LocalLlmProvider,
        cloud: Sequence[LanguageModelProvider],
        bus: EventBus,
        recorder: RequestRecorder,
        *,
        optimizer: CostPerformanceOptimizer | None = None,
        keys: KeyStore | None = None,
        entitlements: Callable[[], Entitlements] = lambda: OPEN,
    ) -> None:
        self.settings = settings
        self.gates = RoutingGates(entitlements)
        self.reports = UsageReports(recorder, optimizer, entitlements)
        self.optimizer = optimizer
        self.keys = keys
        self._started = False
        self.local = local
        self.cloud = list(cloud)
        self._bus = bus
        self.recorder = recorder
        self.cooldowns = Cooldowns(settings.fallback)
        self.fallback = FallbackManager(self.cooldowns, self.providers)
        self.orchestration = OrchestrationLlmIntegration(
            settings.orchestration, self.providers, settings.workflow_overrides
        )
        quality = {p.id: p.quality for p in settings.providers}
        self.router = LlmRouter(
            self.providers,
            settings.routing,
            self.cooldowns,
            cost_of=recorder.cost_of,
            latency_of=recorder.latency_of,
            quality_of=lambda pid: (
                settings.local_quality if pid == local.provider_id else quality.get(pid, 0.5)
            ),
            budget_blocked=recorder.budget_blocked,
            chain_of=lambda r: self.gates.chain(self.fallback.config.chains, r.task),
        )
        self.records: Subject[RoutedRequestRecord] = Subject()  # every finished request, live
        self.on_close: list[Callable[[], None]] = []  # subscriptions the wiring made
        self.on_start: list[Callable[[], Awaitable[None]]] = []  # such as the hosts' probes

    def providers(self) -> list[LanguageModelProvider]:
        return [self.local, *self.cloud]

    async def start(self) -> None:
        """Bind the background writes to this loop and read the budgets' spend; every entry
        point calls it, so users of the service never have to."""
        if not self._started:
            await self.recorder.start()
            self._started = True
            for begin in self.on_start:
                await begin()
        await self._refresh_installed(None)  # which model loads on first use, for the router

    # --- the router's contract ------------------------------------------------------------

    async def get_config(self) -> RoutingConfig:
        return self.router.config

    async def set_config(self, config: RoutingConfig) -> None:
        """Change the routing choices; one beyond the user's edition is refused."""
        self.gates.check_config_change(self.router.config, config)
        self.router.config = config

    async def get_stats(self, period: timedelta) -> RoutingStats:
        await self.start()
        return await self.reports.stats(period)

    async def route(
        self, request: LanguageModelRequest, options: RoutingOptions | None = None
    ) -> RoutedRequest:
        """Decide without sending (``lexitui route --dry-run``)."""
        await self.start()
        await self._refresh_for(request.model)
        request, options, source = self._options(request, options)
        plan = self._plan(request, options, source, action=None)
        return RoutedRequest(
            plan.chain[0][0],
            plan.decision.model_id,
            plan.decision,
            tuple(p.provider_id for p, _ in plan.chain[1:]),
            task=request.task,
        )

    # --- sending --------------------------------------------------------------------------

    async def complete(
        self,
        request: LanguageModelRequest,
        *,
        options: RoutingOptions | None = None,
        source: str = "api",
    ) -> LanguageModelResponse:
        response = None
        # Read to the end, so the request is recorded before the answer is handed back.
        async for chunk in self.stream(request, options=options, source=source):
            if chunk.response is not None:
                response = chunk.response
        if response is None:
            raise RoutingError("the answer ended without a result")
        return response

    async def stream(
        self,
        request: LanguageModelRequest,
        *,
        options: RoutingOptions | None = None,
        source: str = "api",
        request_id: str | None = None,
    ) -> AsyncGenerator[LanguageModelChunk]:
        """Route and stream one request; its record goes to ``records`` once it ends (answered,
        failed or closed early), under ``request_id`` (given by a caller that waits for it)."""
        await self.start()
        refuse_images(request)
        await self._refresh_for(request.model)
        request_id = request_id or uuid.uuid4().hex
        started = time.perf_counter()
        config = self.router.config
        if config.daily_cloud_budget is not None or config.monthly_cloud_budget is not None:
            await self.recorder.budgets.refresh_if_stale()
        asked = options
        try:
            request, options, override = self._options(request, options)
            plan = self._plan(request, options, override, action=Action.GENERATE)
        except (RoutingError, BudgetExceeded, EditionRefusal) as exc:
            strategy = self.router.strategy_for(request, options or asked or RoutingOptions())
            refused = await self.recorder.refusal(request_id, request, strategy, str(exc), source)
            self.records.on_next(refused)
            raise
        decision = plan.decision
        self._bus.publish(
            RequestRouted(
                request_id,
                decision.provider_id,
                decision.reason,
                model=decision.model_id,
                strategy=decision.used_strategy.value,
                was_fallback=decision.was_fallback,
            )
        )
        trace = Trace()
        fell_back: list[str] = []

        def on_fallback(source_id: str, to: str, reason: str) -> None:
            fell_back.append(f"fell back from {source_id} to {to} ({reason})")
            self._bus.publish(FallbackTriggered(request_id, source_id, to, reason))

        meter = self.recorder.energy_meter()
        response: LanguageModelResponse | None = None
        error: str | None = "cancelled: the client hung up"
        answer = self.fallback.stream(
            request,
            plan.chain,
            trace,
            self._fallback_options(),
            local_timeout=options.local_timeout
            or timedelta(seconds=self.router.config.local_timeout_seconds),
            on_fallback=on_fallback,
        )
        try:
            async with contextlib.aclosing(answer):
                async for chunk in answer:
                    if chunk.response is not None:
                        # Complete: a consumer may stop reading at the last chunk.
                        response, error = chunk.response, None
                    yield chunk
            error = None
        except (ProviderError, RoutingError, EditionRefusal) as exc:
            error = str(exc)
            raise
        finally:
            final = trace.final or plan.chain[0]
            reason = "; ".join([decision.reason, *fell_back])
            record = await self.recorder.record(
                request_id=request_id,
                request=request,
                decision=replace(
                    decision,
                    provider_id=final[0].provider_id,
                    model_id=(response.model_id if response else final[1]) or final[1],
                    reason=reason,
                    was_fallback=decision.was_fallback or bool(fell_back),
                ),
                provider=final[0],
                response=response,
                error=error,
                latency_ms=(time.perf_counter() - started) * 1000,
                ttft_ms=None
                if trace.first_token_at is None
                else (trace.first_token_at - started) * 1000,
                meter=meter,
                source=source,
                sharing=self.local.in_flight() + 1,
            )
            self.records.on_next(record)

    async def embed(self, request: EmbeddingRequest, *, source: str = "api") -> EmbeddingResponse:
        """Embeddings go to the local model when it is up, else to a cloud provider that has
        an embeddings API; the same fallback rules apply."""
        await self.start()
        as_request = LanguageModelRequest(
            prompt=" ".join(request.texts),
            task=TaskType.EMBEDDING,
            model=request.model,
            agent_id=request.agent_id,
            workflow_id=request.workflow_id,
        )
        await self._refresh_installed(request.model)
        plan = self._plan(as_request, RoutingOptions(), "", action=Action.EMBEDDINGS)
        started = time.perf_counter()
        meter = self.recorder.energy_meter()
        result = await self.fallback.execute_with_fallback(
            lambda provider, model: provider.embed(replace(request, model=model or None)),
            plan.chain,
            self._fallback_options(),
        )
        record = await self.recorder.embedding(
            as_request, plan.decision, plan.chain, result, started, meter, source
        )
        self.records.on_next(record)
        if not result.success or result.value is None:
            errors = [
                ProviderError(a.provider_id, FailureKind(a.kind), a.error or "failed")
                for a in result.attempt_history
                if a.kind
            ]
            if len(errors) == 1:  # keep its kind: a rate limit stays a rate limit (429)
                raise errors[0]
            said = "; ".join(str(e) for e in errors)
            raise AllProvidersFailed(f"no provider could embed: {said}", errors)
        return result.value

    async def models(self) -> list[LanguageModel]:
        """Every installed local model and the models of each cloud provider able to answer now."""
        out: list[LanguageModel] = await self.local.get_models()
        for provider in self.cloud:
            if provider.available_now()[0]:
                out.extend(await provider.get_models())
        return out

    async def model(self, name: str) -> LanguageModel:
        """The model ``name`` means (any spelling ``lexitui`` accepts), or ``UnknownModel``."""
        models = await self.models()
        named = self.local.model_named(name)
        for model in models:
            if model.id in (name, named) or f"{model.provider_id}:{model.id}" == name:
                return model
        raise UnknownModel(name)

    async def close(self) -> None:
        for dispose in self.on_close:
            dispose()
        await self.recorder.flush()
        for provider in self.cloud:
            await provider.aclose()
        self.records.on_completed()

    # --- helpers --------------------------------------------------------------------------

    async def _refresh_installed(self, wanted: str | None) -> None:
        """The installed models the router reads, current for a model named just now."""
        if self.local.catalog is not None:
            await self.local.catalog.refresh(wanted)

    async def _refresh_for(self, wanted: str | None) -> None:
        """What a decision reads, current: measured speeds and the installed models (``wanted``)."""
        if self.optimizer is not None:
            await self.optimizer.refresh_profiles()
        await self._refresh_installed(wanted)

    def _options(
        self, request: LanguageModelRequest, options: RoutingOptions | None
    ) -> tuple[LanguageModelRequest, RoutingOptions, str]:
        options = options or RoutingOptions()
        # Before the overrides: ``[orchestration.tasks.T]`` and ``[routing.tasks]`` key on it.
        request = with_detected_task(request)
        wanted = request.parameters.get("strategy")
        if wanted and options.strategy is None:
            options = replace(options, strategy=RoutingStrategy(str(wanted)))
        self.gates.check_asked(options.strategy)
        override, source = self.orchestration.override_for(request)
        left_out = None if override is None else self.gates.override_note(source)
        if left_out is not None:
            return request, options, left_out
        request, options, source = self.orchestration.apply(request, options)
        return request, options, f"override: {source}" if source else ""

    def _plan(
        self,
        request: LanguageModelRequest,
        options: RoutingOptions,
        override: str,
        *,
        action: Action | None,
    ) -> RoutePlan:
        """The router's plan under the user's edition; ``action`` is what the request does
        (basic generation, embeddings; None only decides), checked with basic routing."""
        config, notes = self.gates.effective(
            self.router.config, request, self.fallback.config.chains
        )
        try:
            plan = self.router.plan(request, options, config=config)
        except NoRoute as exc:
            self.gates.require_routing(action)  # below WriterPro the edition is the answer
            spent = self.recorder.budgets.blocked()
            if spent is not None and spent in exc.skipped.values():
                # Only the budget stood between the request and the cloud: a quota error (429).
                raise BudgetExceeded("cloud", str(exc)) from exc
            raise RoutingError(str(exc)) from exc
        except RoutingError:
            self.gates.require_routing(action)
            raise
        self.gates.check_plan(plan)
        self.gates.require_routing(action)
        notes = [override, *notes] if override else notes
        if notes:
            decision = replace(plan.decision, reason=f"{plan.decision.reason} ({'; '.join(notes)})")
            plan = replace(plan, decision=decision)
        return plan

    def _fallback_options(self) -> FallbackOptions:
        return FallbackOptions(max_attempts=max(3, len(self.providers()) + 1))

"""What each routed request cost and how it went: priced, metered, counted against the budgets
and written to the store.

The money is worked out at once (the budgets must see a cloud spend before the next request is
routed), while the row is written in the background, batched with the rows finished about the
same time (``BatchedWrites``), so the answer's last byte never waits on SQLite; ``flush`` waits
for the writes (before stopping, before reading the stats, and in tests).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from reactivex import Observable
from reactivex.subject import Subject

from lexitui.domain.language_model import (
    EmbeddingResponse,
    LanguageModelRequest,
    LanguageModelResponse,
    TaskType,
    TokenUsage,
)
from lexitui.domain.routing import (
    FallbackResult,
    RoutedRequestRecord,
    RoutingDecision,
    RoutingStrategy,
)
from lexitui.routing.budgets import BudgetGuard
from lexitui.routing.electricity import EnergyMeter, EnergySpan
from lexitui.routing.prices import PriceBook
from lexitui.routing.provider import LanguageModelProvider
from lexitui.store.batched_writes import BatchedWrites
from lexitui.store.loop_writes import LoopWrites
from lexitui.store.routed_requests import RoutedRequestRows

log = logging.getLogger(__name__)

LatencyOf = Callable[[LanguageModelProvider, str, int], timedelta | None]


class RequestRecorder:
    def __init__(
        self,
        rows: RoutedRequestRows,
        prices: PriceBook,
        budgets: BudgetGuard,
        meter: EnergyMeter,
        *,
        price_provider_of: Callable[[str], str | None],
        latency_of: LatencyOf | None = None,
        local_cost_of: Callable[[str, int], Decimal | None] | None = None,
        record_prompts: bool = False,
    ) -> None:
        self.rows = rows
        self.prices = prices
        self.budgets = budgets
        self.meter = meter
        self._price_provider_of = price_provider_of
        self._latency_of = latency_of
        self._local_cost_of = local_cost_of
        self._record_prompts = record_prompts
        self._writes = LoopWrites(lambda exc: log.warning("recording a request: %s", exc))
        self._row_batch = BatchedWrites(rows.add_many, self._writes)
        self._recorded: Subject[RoutedRequestRecord] = Subject()

    async def start(self) -> None:
        self._writes.bind()
        await self.budgets.load()

    async def flush(self) -> None:
        await self._writes.drain()

    # --- estimates the router reads (no I/O) ----------------------------------------------

    def cost_of(
        self, provider: LanguageModelProvider, model: str, prompt: int, answer: int
    ) -> Decimal | None:
        if provider.is_local:
            return self._local_cost_of(model, answer) if self._local_cost_of else None
        return self.prices.price(
            self._price_provider_of(provider.provider_id), model, prompt, answer
        )

    def latency_of(
        self, provider: LanguageModelProvider, model: str, answer: int
    ) -> timedelta | None:
        return self._latency_of(provider, model, answer) if self._latency_of else None

    def budget_blocked(self) -> str | None:
        return self.budgets.blocked()

    def energy_meter(self) -> EnergySpan:
        return self.meter.begin()

    # --- the outcome ----------------------------------------------------------------------

    async def record(
        self,
        *,
        request_id: str,
        request: LanguageModelRequest,
        decision: RoutingDecision,
        provider: LanguageModelProvider,
        response: LanguageModelResponse | None,
        error: str | None,
        latency_ms: float,
        ttft_ms: float | None,
        meter: EnergySpan,
        source: str,
        sharing: int = 1,
    ) -> RoutedRequestRecord:
        """``sharing``: local requests the engine served at once; the energy measured over this
        one's time is split evenly between them, so concurrent requests are not all charged
        the whole machine."""
        now = datetime.now(UTC)
        prompt = response.usage.prompt_tokens if response else 0
        answer = response.usage.completion_tokens if response else 0
        cost = avoided = electricity = None
        energy_wh = None
        if provider.is_local:
            use = self.meter.end(meter)
            share = max(1, sharing)
            energy_wh, electricity = use.energy_wh / share, use.usd / share
            # Embeddings have no reference price: the chat model's would overstate them.
            if response is not None and request.task != TaskType.EMBEDDING:
                avoided = self.prices.avoided(prompt, answer)
        elif response is not None and (prompt or answer or not response.text):
            price_provider = self._price_provider_of(provider.provider_id)
            cost = self.prices.price(price_provider, decision.model_id, prompt, answer)
        # else: text came back with no token counts (a server that ignores include_usage): the
        # price is unknown, which is not $0.
        record = RoutedRequestRecord(
            request_id=request_id,
            provider_id=provider.provider_id,
            model_id=decision.model_id,
            is_local=provider.is_local,
            strategy=decision.used_strategy,
            reason=decision.reason,
            task=request.task,
            was_fallback=decision.was_fallback,
            success=error is None,
            error=error,
            prompt_tokens=prompt,
            completion_tokens=answer,
            latency_ms=latency_ms,
            ttft_ms=ttft_ms,
            cost_usd=cost,
            avoided_usd=avoided,
            electricity_usd=electricity,
            energy_wh=energy_wh,
            agent_id=request.agent_id,
            workflow_id=request.workflow_id,
            source=source,
            prompt_text=request.text() if self._record_prompts else None,
            created_at=now,
        )
        if cost:
            await self.budgets.after_spend(now, cost)
        self._row_batch.submit(record)
        self._recorded.on_next(record)
        return record

    @property
    def recorded(self) -> Observable[RoutedRequestRecord]:
        """Each request's record as it is recorded (the optimizer learns from them)."""
        return self._recorded

    async def embedding(
        self,
        request: LanguageModelRequest,
        decision: RoutingDecision,
        chain: Sequence[tuple[LanguageModelProvider, str]],
        result: FallbackResult[EmbeddingResponse],
        started: float,
        meter: EnergySpan,
        source: str,
    ) -> RoutedRequestRecord:
        """An embeddings request: priced by its input tokens, like the rest."""
        final = next((p for p, _ in chain if p.provider_id == result.final_provider), None)
        provider = final or chain[0][0]
        answer = result.value
        failed = [a for a in result.attempt_history if not a.success]
        return await self.record(
            request_id=uuid.uuid4().hex,
            request=request,
            decision=replace(
                decision,
                provider_id=provider.provider_id,
                model_id=answer.model_id if answer else decision.model_id,
                was_fallback=decision.was_fallback or bool(failed and answer),
            ),
            provider=provider,
            response=None
            if answer is None
            else LanguageModelResponse(
                "", answer.provider_id, answer.model_id, TokenUsage(answer.prompt_tokens, 0)
            ),
            error=None if answer else "; ".join(f"{a.provider_id}: {a.error}" for a in failed),
            latency_ms=(time.perf_counter() - started) * 1000,
            ttft_ms=None,
            meter=meter,
            source=source,
        )

    async def refusal(
        self,
        request_id: str,
        request: LanguageModelRequest,
        strategy: RoutingStrategy,
        error: str,
        source: str,
    ) -> RoutedRequestRecord:
        """A request no provider could take: recorded too, so stats count the failures."""
        record = RoutedRequestRecord(
            request_id=request_id,
            provider_id="none",
            model_id=request.model or "",
            is_local=False,
            strategy=strategy,
            reason=error,
            task=request.task,
            success=False,
            error=error,
            agent_id=request.agent_id,
            workflow_id=request.workflow_id,
            source=source,
            created_at=datetime.now(UTC),
        )
        await self.rows.add(record)
        return record

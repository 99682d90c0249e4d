"""What the routing records tell, as each edition may read it (docs/editions.md).

Basic analytics (Teams) is requests and tokens per model and UTC day; detailed analytics
(Enterprise) is the rest: per-request records, latency, cost and the breakdowns by provider,
task and source. The savings report is cost optimisation (Enterprise), as is the optimizer's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from lexitui.domain.routing import RoutedRequestRecord, RoutingStats, SavingsReport, UsageAnalytics
from lexitui.editions.entitlements import Entitlements
from lexitui.editions.tiers import Action
from lexitui.routing.optimizer import CostPerformanceOptimizer
from lexitui.routing.recording import RequestRecorder
from lexitui.store.routed_requests import DayModelUsage


class UsageReports:
    def __init__(
        self,
        recorder: RequestRecorder,
        optimizer: CostPerformanceOptimizer | None,
        entitlements: Callable[[], Entitlements],
    ) -> None:
        self._recorder = recorder
        self._optimizer = optimizer
        self._entitlements = entitlements

    def allows(self, action: Action) -> bool:
        return self._entitlements().allows(action)

    async def by_day_and_model(self, period: timedelta) -> list[DayModelUsage]:
        self._entitlements().require(Action.BASIC_ANALYTICS)
        await self._recorder.flush()
        return await self._recorder.rows.by_day_and_model(period)

    async def stats(self, period: timedelta, now: datetime | None = None) -> RoutingStats:
        """The routing mix: local, cloud, fallback and failed requests, cost, latency."""
        self._entitlements().require(Action.DETAILED_ANALYTICS)
        await self._recorder.flush()
        return await self._recorder.rows.stats(period, now=now)

    async def analytics(self, period: timedelta) -> UsageAnalytics:
        self._entitlements().require(Action.DETAILED_ANALYTICS)
        await self._recorder.flush()
        return await self._recorder.rows.analytics(period)

    async def recent(self, limit: int = 50) -> list[RoutedRequestRecord]:
        """The request log: the newest ``limit`` requests, newest first."""
        self._entitlements().require(Action.DETAILED_ANALYTICS)
        await self._recorder.flush()
        return await self._recorder.rows.recent(limit)

    async def savings(self, period: timedelta, now: datetime | None = None) -> SavingsReport:
        self._entitlements().require(Action.COST_OPTIMISATION)
        await self._recorder.flush()
        reference = self._recorder.prices.reference_label()
        return await self._recorder.rows.savings(period, reference, now=now)

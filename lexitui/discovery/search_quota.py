"""The editions' rules for searching: the Ollama library is Core's, the Hub is WriterPro's and
counted per UTC day (10 searches on WriterPro), before the registry is asked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from lexitui.domain.discovery import ModelSearchQuery
from lexitui.domain.enums import ModelRegistryType
from lexitui.editions.entitlements import Entitlements
from lexitui.editions.refusals import EditionRefusal
from lexitui.editions.tiers import Action
from lexitui.store.edition_counters import EditionCounters

HUB_SEARCHES = "hub_searches"


def counted(query: ModelSearchQuery) -> bool:
    """Whether a Hub search counts towards the daily limit: one that asks for something (words,
    an author, a base model). The Hub's trending list, which Discover opens on, does not: a
    user would otherwise spend a search each time they open the screen."""
    return bool(query.query or query.author or query.base_model)


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class SearchQuota:
    def __init__(
        self,
        entitlements: Callable[[], Entitlements],
        counters: EditionCounters,
        today: Callable[[], dt.date] = utc_today,
    ) -> None:
        self._entitlements = entitlements
        self._counters = counters
        self._today = today

    async def check(self, kind: ModelRegistryType, query: ModelSearchQuery) -> None:
        """Raise an ``EditionRefusal`` when this search is not allowed now."""
        entitlements = self._entitlements()
        if kind is ModelRegistryType.OLLAMA_LIBRARY:
            entitlements.require(Action.BROWSE_OLLAMA)
            return
        if kind is ModelRegistryType.CUSTOM:
            entitlements.require(Action.CUSTOM_REGISTRIES)
            return
        entitlements.require(Action.SEARCH_HUB)
        if entitlements.limit("searches_per_day") is None or not counted(query):
            return
        used = await self._counters.used(HUB_SEARCHES, self._today())
        entitlements.require_room("searches_per_day", used, usage=f"{used} used today, UTC")

    async def count(self, kind: ModelRegistryType, query: ModelSearchQuery) -> None:
        """Count a search the Hub answered (only where a limit applies)."""
        limited = self._entitlements().limit("searches_per_day") is not None
        if kind is ModelRegistryType.HUGGING_FACE and limited and counted(query):
            await self._counters.add(HUB_SEARCHES, self._today())

    def require_custom(self) -> None:
        """Raise ``NotEntitled`` unless this user may use the configured registries."""
        self._entitlements().require(Action.CUSTOM_REGISTRIES)

    def custom_refusal(self) -> str | None:
        """Why the configured registries are left out of a Hub search, or None."""
        try:
            self.require_custom()
        except EditionRefusal as refused:
            return refused.message
        return None

    async def used_today(self) -> int:
        return await self._counters.used(HUB_SEARCHES, self._today())

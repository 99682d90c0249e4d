"""Shared pieces of the cost tests: a store on a temporary path, records, and test providers."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from lexitui.domain.language_model import (
    EmbeddingRequest,
    EmbeddingResponse,
    LanguageModel,
    LanguageModelChunk,
    LanguageModelRequest,
    LanguageModelResponse,
)
from lexitui.domain.routing import RoutedRequestRecord, RoutingStrategy
from lexitui.store import Store
from lexitui.store.routed_requests import RoutedRequestRows

NOON = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
_ids = itertools.count()


@asynccontextmanager
async def open_rows(path: Path) -> AsyncIterator[RoutedRequestRows]:
    store = Store(path / "lexitui.sqlite")
    await store.open()
    try:
        yield RoutedRequestRows(store)
    finally:
        await store.close()


def record(
    provider: str = "openai",
    model: str = "gpt-4o-mini",
    *,
    local: bool = False,
    cost: Decimal | None = None,
    avoided: Decimal | None = None,
    electricity: Decimal | None = None,
    at: datetime = NOON,
    **fields: object,
) -> RoutedRequestRecord:
    return RoutedRequestRecord(
        request_id=f"r{next(_ids)}",
        provider_id=provider,
        model_id=model,
        is_local=local,
        strategy=RoutingStrategy.PREFER_LOCAL,
        reason="test",
        cost_usd=cost,
        avoided_usd=avoided,
        electricity_usd=electricity,
        created_at=at,
        **fields,  # type: ignore[arg-type]
    )


class TestProvider:
    """A provider that follows the protocol and answers nothing: the optimizer only reads it."""

    __test__ = False  # not a pytest test class

    def __init__(
        self, provider_id: str, model: str, *, local: bool = False, available: bool = True
    ) -> None:
        self._id = provider_id
        self._model = model
        self._local = local
        self._available = available

    @property
    def provider_id(self) -> str:
        return self._id

    @property
    def provider_name(self) -> str:
        return self._id.title()

    @property
    def is_local(self) -> bool:
        return self._local

    @property
    def default_model(self) -> str | None:
        return self._model

    def available_now(self) -> tuple[bool, str]:
        return (self._available, "" if self._available else "switched off")

    def context_length(self, model: str | None) -> int | None:
        return 8192

    def known_models(self) -> tuple[str, ...]:
        return (self._model,)

    async def is_available(self) -> bool:
        return self._available

    async def get_models(self) -> list[LanguageModel]:
        return [LanguageModel(self._model, self._model, self._id, self._local)]

    async def generate(self, request: LanguageModelRequest) -> LanguageModelResponse:
        raise NotImplementedError

    def stream(self, request: LanguageModelRequest) -> AsyncIterator[LanguageModelChunk]:
        raise NotImplementedError

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None

"""A provider whose behaviour a test scripts: answers, failures (before or after the first
chunk), delays and availability. It follows the provider protocol exactly, so the router and the
fallback manager cannot tell it from a real one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

from lexitui.domain.language_model import (
    EmbeddingRequest,
    EmbeddingResponse,
    LanguageModel,
    LanguageModelChunk,
    LanguageModelRequest,
    LanguageModelResponse,
    TokenUsage,
)
from lexitui.routing.errors import FailureKind, ProviderError


@dataclass
class ScriptedProvider:
    provider_id: str
    is_local: bool = False
    words: tuple[str, ...] = ("hello", "there")
    model: str = "m"
    available: bool = True
    why_not: str = "down"
    context: int | None = None
    fail: FailureKind | None = None  # fail every request with this, before the first chunk
    fail_times: int | None = None  # only the first N requests fail
    retry_after_s: float | None = None
    break_after: int | None = None  # raise after this many chunks
    first_delay_s: float = 0.0
    busy: int = 0
    engine_slots: int | None = None  # a local model's slots (``slots()``), when it tells
    models: tuple[str, ...] = ()
    calls: int = 0
    seen: list[LanguageModelRequest] = field(default_factory=list)
    closed: int = 0

    @property
    def provider_name(self) -> str:
        return self.provider_id

    @property
    def default_model(self) -> str | None:
        return self.model

    def known_models(self) -> tuple[str, ...]:
        return self.models

    def available_now(self) -> tuple[bool, str]:
        return (True, "up") if self.available else (False, self.why_not)

    def context_length(self, model: str | None) -> int | None:
        return self.context

    def in_flight(self) -> int:
        return self.busy

    def slots(self) -> int | None:
        return self.engine_slots

    async def is_available(self) -> bool:
        return self.available

    async def get_models(self) -> list[LanguageModel]:
        return [LanguageModel(self.model, self.model, self.provider_id, self.is_local)]

    async def generate(self, request: LanguageModelRequest) -> LanguageModelResponse:
        async for chunk in self.stream(request):
            if chunk.response:
                return chunk.response
        raise AssertionError("no final chunk")

    async def stream(self, request: LanguageModelRequest) -> AsyncGenerator[LanguageModelChunk]:
        self.calls += 1
        self.seen.append(request)
        try:
            if self.first_delay_s:
                await asyncio.sleep(self.first_delay_s)
            failing = self.fail is not None and (
                self.fail_times is None or self.calls <= self.fail_times
            )
            if failing:
                assert self.fail is not None
                raise ProviderError(
                    self.provider_id, self.fail, "scripted", retry_after_s=self.retry_after_s
                )
            for i, word in enumerate(self.words):
                if self.break_after is not None and i == self.break_after:
                    raise ProviderError(self.provider_id, FailureKind.SERVER_ERROR, "cut")
                yield LanguageModelChunk(word + " ", index=i)
            text = " ".join(self.words) + " "
            yield LanguageModelChunk(
                "",
                index=len(self.words),
                is_complete=True,
                finish_reason="stop",
                response=LanguageModelResponse(
                    text,
                    self.provider_id,
                    request.model or self.model,
                    TokenUsage(len(request.text().split()), len(self.words)),
                    "stop",
                ),
            )
        finally:
            self.closed += 1

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        self.calls += 1
        if self.fail is not None:
            raise ProviderError(self.provider_id, self.fail, "scripted")
        return EmbeddingResponse([[1.0, 0.0] for _ in request.texts], self.provider_id, self.model)

    async def aclose(self) -> None:
        return None

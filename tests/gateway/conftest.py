"""Fixtures for gateway tests: a gateway on 127.0.0.1:0 in front of any router.

``start_gateway(router)`` is an async context manager, so a test can put the real
``RoutingService`` (and the real engine behind it) in place of ``FakeRouter``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from lexitui.domain.language_model import (
    EmbeddingRequest,
    EmbeddingResponse,
    LanguageModel,
    LanguageModelChunk,
    LanguageModelRequest,
    LanguageModelResponse,
    TokenUsage,
)
from lexitui.gateway import Gateway, GatewayRouter
from lexitui.routing.errors import UnknownModel
from lexitui.routing.gateway_settings import GatewaySettings

PIECES = ("Hello", ", ", "world", "!")
PROMPT_TOKENS = 7


@asynccontextmanager
async def start_gateway(
    router: GatewayRouter, *, api_key: str | None = None, max_body_bytes: int | None = None
) -> AsyncIterator[Gateway]:
    """A started gateway on a free loopback port; ``gateway.base_url`` ends in ``/v1``."""
    extra = {} if max_body_bytes is None else {"max_body_bytes": max_body_bytes}
    gateway = Gateway(router, GatewaySettings(host="127.0.0.1", port=0), api_key, **extra)
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop()


class FakeRouter:
    """A deterministic router: answers ``"Hello, world!"`` in four chunks, embeds a text as
    ``[len, 0.5, -1.0]``, and records every request it gets.

    ``fail`` is raised before the first chunk (or, with ``fail_after=N``, after N chunks);
    ``hang`` makes the stream wait forever after its first chunk. ``closed`` is set when the
    stream generator's ``finally`` runs, however it ended."""

    def __init__(
        self,
        *,
        pieces: Sequence[str] = PIECES,
        fail: Exception | None = None,
        fail_after: int | None = None,
        hang: bool = False,
    ) -> None:
        self.pieces = tuple(pieces)
        self.fail = fail
        self.fail_after = fail_after
        self.hang = hang
        self.requests: list[LanguageModelRequest] = []
        self.embed_requests: list[EmbeddingRequest] = []
        self.sources: list[str] = []
        self.closed = asyncio.Event()

    def response(self, request: LanguageModelRequest) -> LanguageModelResponse:
        return LanguageModelResponse(
            text="".join(self.pieces),
            provider_id="fake",
            model_id=request.model or "fake-model",
            usage=TokenUsage(PROMPT_TOKENS, len(self.pieces)),
            finish_reason="stop",
        )

    async def complete(
        self, request: LanguageModelRequest, *, source: str = "gateway"
    ) -> LanguageModelResponse:
        self.requests.append(request)
        self.sources.append(source)
        if self.fail is not None:
            raise self.fail
        return self.response(request)

    async def stream(
        self, request: LanguageModelRequest, *, source: str = "gateway"
    ) -> AsyncIterator[LanguageModelChunk]:
        self.requests.append(request)
        self.sources.append(source)
        try:
            if self.fail is not None and self.fail_after is None:
                raise self.fail
            for i, piece in enumerate(self.pieces):
                if self.fail is not None and i == self.fail_after:
                    raise self.fail
                yield LanguageModelChunk(piece, index=i)
                if self.hang:
                    await asyncio.Event().wait()
            yield LanguageModelChunk(
                "",
                index=len(self.pieces),
                is_complete=True,
                finish_reason="stop",
                response=self.response(request),
            )
        finally:
            self.closed.set()

    async def embed(
        self, request: EmbeddingRequest, *, source: str = "gateway"
    ) -> EmbeddingResponse:
        self.embed_requests.append(request)
        if self.fail is not None:
            raise self.fail
        return EmbeddingResponse(
            embeddings=[[float(len(t)), 0.5, -1.0] for t in request.texts],
            provider_id="fake",
            model_id=request.model or "fake-embed",
            prompt_tokens=sum(len(t.split()) for t in request.texts),
        )

    async def models(self) -> list[LanguageModel]:
        return [
            LanguageModel("fake-model", "Fake", "local", True, 2048, True),
            LanguageModel("cloud-model", "Cloud", "openai", False),
        ]

    async def model(self, name: str) -> LanguageModel:
        for model in await self.models():
            if model.id == name:
                return model
        raise UnknownModel(name)

"""The plumbing every cloud provider shares: its httpx client, the key kept out of reprs and
errors, timing, and the generate/stream loops; subclasses only speak their API's shapes.

Subclasses build requests (``_chat_call``) and read answers (``_read_answer``, ``_read_stream``);
this class turns transport failures and non-2xx answers into ``ProviderError`` and, once text
has been streamed, turns any failure into ``STREAM_BROKEN`` so nothing is retried twice.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from lexitui.domain.language_model import (
    LanguageModel,
    LanguageModelChunk,
    LanguageModelRequest,
    LanguageModelResponse,
    Message,
    TokenUsage,
)
from lexitui.routing.cloud_http import (
    SseEvent,
    error_from_exception,
    error_from_response,
    json_object,
    make_client,
    sse_events,
)
from lexitui.routing.errors import FailureKind, ProviderError
from lexitui.routing.keys import missing_key_reason, redact, redact_url
from lexitui.routing.settings import ProviderSettings


@dataclass(frozen=True)
class Call:
    """One HTTP request to make: where, with which headers (the key among them) and body."""

    url: str
    headers: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)


@dataclass
class Answer:
    """What a subclass reads from a response or stream."""

    text: str = ""
    usage: TokenUsage = field(default_factory=TokenUsage)
    finish_reason: str | None = None


class CloudProvider(ABC):
    """Base of the cloud providers; ``requires_key`` False lets a keyless endpoint be used."""

    kind_name = "Cloud"
    requires_key = True

    def __init__(self, settings: ProviderSettings, key: str | None) -> None:
        self._settings = settings
        self._key = key or None
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:  # never the key itself (K2)
        key = "set" if self._key else "none"
        url = redact_url(self.base_url)
        return f"{type(self).__name__}(id={self.provider_id!r}, base_url={url!r}, key={key})"

    @property
    def settings(self) -> ProviderSettings:
        return self._settings

    @property
    def base_url(self) -> str:
        return self._settings.base_url.rstrip("/")

    @property
    def provider_id(self) -> str:
        return self._settings.id

    @property
    def provider_name(self) -> str:
        s = self._settings
        return self.kind_name if s.id == s.kind else f"{self.kind_name} ({s.id})"

    @property
    def is_local(self) -> bool:
        return False

    @property
    def default_model(self) -> str | None:
        s = self._settings
        return s.model or (s.models[0] if s.models else None)

    def known_models(self) -> tuple[str, ...]:
        s = self._settings
        return tuple(dict.fromkeys([*([s.model] if s.model else []), *s.models, *s.deployments]))

    def available_now(self) -> tuple[bool, str]:
        if self.requires_key and not self._key:
            return False, missing_key_reason(self._settings)
        if self.default_model is None:
            return False, "no model configured"
        return True, "ready"

    def context_length(self, model: str | None) -> int | None:
        return self._settings.context_length

    async def get_models(self) -> list[LanguageModel]:
        """The configured models; no network, so a providers list shows at once."""
        s = self._settings
        ids = list(dict.fromkeys([*([s.model] if s.model else []), *s.models]))
        return [
            LanguageModel(
                id=m,
                name=m,
                provider_id=s.id,
                is_local=False,
                context_length=s.context_length,
                supports_embeddings="embed" in m,
            )
            for m in ids
        ]

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    # -- for subclasses -------------------------------------------------------------------

    @abstractmethod
    def _chat_call(self, request: LanguageModelRequest, model: str, stream: bool) -> Call:
        """The HTTP call that asks this API for an answer."""

    @abstractmethod
    def _read_answer(self, data: dict[str, Any]) -> Answer:
        """A non-streamed answer's text, usage and finish reason."""

    @abstractmethod
    def _read_stream(self, events: AsyncIterator[SseEvent], answer: Answer) -> AsyncIterator[str]:
        """Yield text pieces, filling ``answer``'s usage and finish reason; raise on errors."""

    def _fail(self, kind: FailureKind, message: str) -> ProviderError:
        return ProviderError(self.provider_id, kind, message)

    def _model(self, requested: str | None) -> str:
        model = requested or self.default_model
        if not model:
            raise self._fail(FailureKind.BAD_REQUEST, "no model named and none configured")
        return model

    def _require_key(self) -> None:
        if self.requires_key and not self._key:
            raise self._fail(FailureKind.UNAVAILABLE, self.available_now()[1])

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = make_client(self._settings.timeout_s)
        return self._client

    def _clean(self, err: ProviderError) -> ProviderError:
        """The same error with the key masked, should a server have echoed it (K2)."""
        message = redact(err.message, self._key)
        if message == err.message:
            return err
        return ProviderError(
            err.provider_id,
            err.kind,
            message,
            status=err.status,
            retry_after_s=err.retry_after_s,
        )

    async def _post_json(self, call: Call, what: str) -> dict[str, Any]:
        self._require_key()
        try:
            resp = await self._http().post(call.url, json=call.body, headers=call.headers)
        except httpx.HTTPError as exc:
            raise self._clean(error_from_exception(self.provider_id, exc, started=False)) from None
        if not 200 <= resp.status_code < 300:
            err = error_from_response(
                self.provider_id, resp.status_code, resp.content, resp.headers
            )
            raise self._clean(err)
        try:
            return json_object(resp.content, self.provider_id, what)
        except ProviderError as err:
            raise self._clean(err) from None

    async def _get_ok(self, url: str, headers: dict[str, str]) -> bool:
        if self.requires_key and not self._key:
            return False
        try:
            resp = await self._http().get(url, headers=headers)
        except httpx.HTTPError:
            return False
        return 200 <= resp.status_code < 300

    # -- generation -----------------------------------------------------------------------

    async def generate(self, request: LanguageModelRequest) -> LanguageModelResponse:
        model = self._model(request.model)
        start = time.perf_counter()
        data = await self._post_json(self._chat_call(request, model, False), "the answer")
        # model_id is the configured name, not the server's dated snapshot: prices and
        # routing rules are keyed on the name the user wrote.
        try:
            answer = self._read_answer(data)
        except ProviderError as err:
            raise self._clean(err) from None
        return LanguageModelResponse(
            text=answer.text,
            provider_id=self.provider_id,
            model_id=model,
            usage=answer.usage,
            finish_reason=answer.finish_reason,
            latency_ms=(time.perf_counter() - start) * 1000,
        )

    async def stream(self, request: LanguageModelRequest) -> AsyncIterator[LanguageModelChunk]:
        model = self._model(request.model)
        self._require_key()
        call = self._chat_call(request, model, True)
        start = time.perf_counter()
        ttft: float | None = None
        answer = Answer()
        pieces: list[str] = []
        try:
            async with self._http().stream(
                "POST", call.url, json=call.body, headers=call.headers
            ) as resp:
                if not 200 <= resp.status_code < 300:
                    body = await resp.aread()
                    raise error_from_response(
                        self.provider_id, resp.status_code, body, resp.headers
                    )
                async for piece in self._read_stream(sse_events(resp), answer):
                    if not piece:
                        continue
                    if ttft is None:
                        ttft = (time.perf_counter() - start) * 1000
                    pieces.append(piece)
                    yield LanguageModelChunk(text=piece, index=len(pieces) - 1)
        except ProviderError as failed:
            if pieces and failed.kind is not FailureKind.STREAM_BROKEN:
                failed = self._fail(FailureKind.STREAM_BROKEN, f"stream broke: {failed.message}")
            raise self._clean(failed) from None
        except httpx.HTTPError as exc:
            broken = error_from_exception(self.provider_id, exc, started=bool(pieces))
            raise self._clean(broken) from None
        response = LanguageModelResponse(
            text="".join(pieces),
            provider_id=self.provider_id,
            model_id=model,
            usage=answer.usage,
            finish_reason=answer.finish_reason,
            latency_ms=(time.perf_counter() - start) * 1000,
            ttft_ms=ttft,
        )
        yield LanguageModelChunk(
            text="",
            index=len(pieces),
            is_complete=True,
            finish_reason=answer.finish_reason,
            response=response,
        )


def chat_messages(request: LanguageModelRequest) -> list[Message]:
    """The conversation to send; a prompt-only request becomes one user message."""
    messages = list(request.messages)
    if request.prompt:
        messages.append(Message("user", request.prompt))
    return messages


OPENAI_EXTRAS = frozenset(
    {"frequency_penalty", "presence_penalty", "logit_bias", "response_format", "logprobs"}
)
ANTHROPIC_EXTRAS = frozenset({"top_k"})


def extra_parameters(
    request: LanguageModelRequest, body: dict[str, Any], allowed: frozenset[str]
) -> dict[str, Any]:
    """``request.parameters`` fill in the API fields ``allowed`` names that the typed ones left
    out; anything else there (routing hints such as ``strategy``, orchestration settings) is
    lexitui's own and never leaves for the cloud."""
    merged = dict(body)
    for name, value in request.parameters.items():
        if name in allowed and name not in merged:
            merged[name] = value
    return merged

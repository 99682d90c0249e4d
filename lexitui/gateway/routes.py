"""The OpenAI endpoints: ``/v1/chat/completions``, ``/v1/completions``, ``/v1/embeddings``,
``/v1/models`` (and ``/v1/models/{id}``), plus an unauthenticated ``/health`` for probes and
``/lexitui/v1/status`` (keyed like ``/v1``) for another lexitui that uses this one as a host.

A streamed answer starts only once the router has produced its first chunk: until then every
failure (no provider, rate limit, budget, timeout) is a real HTTP status, never "200, then an
error". A failure after the first chunk can only be told inside the stream: a final
``data: {"error": {...}}`` frame, then ``data: [DONE]`` (as vLLM does; the OpenAI SDKs raise
on the error frame, and line-based clients still see the stream end).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import unquote

from lexitui.domain.language_model import (
    EmbeddingRequest,
    EmbeddingResponse,
    LanguageModel,
    LanguageModelChunk,
    LanguageModelRequest,
    LanguageModelResponse,
    TokenUsage,
)
from lexitui.fleet.model_orders import ORDERS, ORDERS_PATH, OrderRefused, OrderSource
from lexitui.fleet.model_pulls import DOWNLOADS_PATH, PULL_PATH, PullSource
from lexitui.gateway.errors import ApiError, from_exception, invalid, not_found, unauthorized
from lexitui.gateway.http import HttpRequest, HttpResponse, StreamingResponse
from lexitui.gateway.openai_format import (
    DONE,
    StreamFrames,
    chat_completion,
    embeddings,
    model_list,
    model_object,
    new_id,
    now,
    sse,
    text_completion,
)
from lexitui.gateway.openai_wire import (
    GenerationCall,
    chat_call,
    completion_call,
    embedding_request,
    identity,
    parse_body,
)

log = logging.getLogger(__name__)

SOURCE = "gateway"  # how the router records where a request came from
SSE_HEADERS = [
    ("content-type", "text/event-stream; charset=utf-8"),
    ("cache-control", "no-cache"),
    ("x-accel-buffering", "no"),  # a reverse proxy in front must not hold tokens back
]
MODELS_PREFIX = "/v1/models/"
STATUS_PATH = "/lexitui/v1/status"
# Builds the status document (``lexitui.fleet.status_snapshot.StatusSnapshot``).
StatusSource = Callable[[], Awaitable[dict[str, Any]]]


class GatewayRouter(Protocol):
    """What the gateway needs from the router (``RoutingService`` provides it)."""

    async def complete(
        self, request: LanguageModelRequest, *, source: str = "gateway"
    ) -> LanguageModelResponse: ...

    def stream(
        self, request: LanguageModelRequest, *, source: str = "gateway"
    ) -> AsyncIterator[LanguageModelChunk]: ...

    async def embed(
        self, request: EmbeddingRequest, *, source: str = "gateway"
    ) -> EmbeddingResponse: ...

    async def models(self) -> list[LanguageModel]: ...

    async def model(self, name: str) -> LanguageModel: ...


Answer = HttpResponse | StreamingResponse


class OpenAiRoutes:
    """The HTTP handler: checks the key, dispatches, and turns every failure into an answer."""

    def __init__(
        self,
        router: GatewayRouter,
        api_key: str | None,
        status: StatusSource | None = None,
        orders: OrderSource | None = None,
        pulls: PullSource | None = None,
    ) -> None:
        self._router = router
        self._status = status
        self._orders = orders
        self._pulls = pulls
        self._key = api_key.encode() if api_key else None
        self._routes: dict[tuple[str, str], Callable[[HttpRequest], Awaitable[Answer]]] = {
            ("POST", "/v1/chat/completions"): self._chat,
            ("POST", "/v1/completions"): self._completions,
            ("POST", "/v1/embeddings"): self._embeddings,
            ("GET", "/v1/models"): self._models,
        }
        if status is not None:
            self._routes[("GET", STATUS_PATH)] = self._status_document
        if orders is not None:
            for order in ORDERS:
                self._routes[("POST", ORDERS_PATH + order)] = self._model_order
        if pulls is not None:
            self._routes[("POST", PULL_PATH)] = self._model_pull
            self._routes[("GET", DOWNLOADS_PATH)] = self._downloads

    async def __call__(self, request: HttpRequest) -> Answer:
        try:
            return await self._dispatch(request)
        except Exception as exc:
            return HttpResponse.error(from_exception(exc))

    async def _dispatch(self, request: HttpRequest) -> Answer:
        path = request.path.rstrip("/") or "/"
        if path == "/health" and request.method in ("GET", "HEAD"):
            return HttpResponse.json(200, {"status": "ok"})
        # The key is checked before the path: unknown URLs tell a stranger nothing.
        self._authorize(request.headers)
        handler = self._routes.get((request.method, path))
        if handler is not None:
            return await handler(request)
        if request.method == "GET" and path.startswith(MODELS_PREFIX):
            return await self._model(unquote(path[len(MODELS_PREFIX) :]))
        allowed = [method for method, known in self._routes if known == path]
        if allowed:
            raise ApiError(
                405,
                f"Method {request.method} is not allowed on {path}; use {allowed[0]}.",
                code="method_not_allowed",
                headers=[("allow", ", ".join(allowed))],
            )
        raise not_found(request.method, path)

    def admit(self, path: str, headers: dict[str, str]) -> ApiError | None:
        """The key check, before the body is read (the health check needs no key)."""
        if path.rstrip("/") == "/health":
            return None
        try:
            self._authorize(headers)
        except ApiError as refused:
            return refused
        return None

    def _authorize(self, headers: dict[str, str]) -> None:
        if self._key is None:
            return
        raw = headers.get("authorization", "")
        scheme, _, token = raw.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized(present=bool(raw))
        # Constant time, so response timing does not reveal how much of a guess was right.
        if not hmac.compare_digest(token.strip().encode(), self._key):
            raise unauthorized(present=True)

    async def _chat(self, request: HttpRequest) -> Answer:
        body = parse_body(request.body)
        return await self._generate(chat_call(body, identity(request.headers, body)), chat=True)

    async def _completions(self, request: HttpRequest) -> Answer:
        body = parse_body(request.body)
        call = completion_call(body, identity(request.headers, body))
        return await self._generate(call, chat=False)

    async def _embeddings(self, request: HttpRequest) -> Answer:
        body = parse_body(request.body)
        embedding, encoding = embedding_request(body, identity(request.headers, body))
        response = await self._router.embed(embedding, source=SOURCE)
        return HttpResponse.json(200, embeddings(response, encoding))

    async def _models(self, request: HttpRequest) -> Answer:
        return HttpResponse.json(200, model_list(await self._router.models()))

    async def _status_document(self, request: HttpRequest) -> Answer:
        assert self._status is not None  # routed only when there is one
        return HttpResponse.json(200, await self._status())

    async def _model_order(self, request: HttpRequest) -> Answer:
        """Load or unload a model on this machine for another lexitui (``fleet.model_orders``):
        refused unless the gateway has a key, as another machine changing this one must."""
        assert self._orders is not None  # routed only when there are orders
        if self._key is None:
            raise ApiError(403, "Set a gateway key to load or unload models over HTTP.")
        model = parse_body(request.body).get("model")
        if not isinstance(model, str) or not model.strip():
            raise invalid("'model' must name a model", param="model")
        order = request.path.rstrip("/").rsplit("/", 1)[-1]
        try:
            return HttpResponse.json(200, await self._orders(order, model.strip()))
        except OrderRefused as refused:
            raise ApiError(refused.status, str(refused)) from None

    async def _model_pull(self, request: HttpRequest) -> Answer:
        """Queue a download on this machine for another lexitui (``fleet.model_pulls``): 202 at
        once, the download goes on here; keyed like the load and unload orders."""
        assert self._pulls is not None  # routed only when there are pulls
        if self._key is None:
            raise ApiError(403, "Set a gateway key to pull models over HTTP.")
        model = parse_body(request.body).get("model")
        if not isinstance(model, str) or not model.strip():
            raise invalid("'model' must be REPO:QUANT", param="model")
        try:
            return HttpResponse.json(202, await self._pulls.pull(model.strip()))
        except OrderRefused as refused:
            raise ApiError(refused.status, str(refused)) from None

    async def _downloads(self, request: HttpRequest) -> Answer:
        assert self._pulls is not None
        return HttpResponse.json(200, {"downloads": await self._pulls.downloads()})

    async def _model(self, model_id: str) -> Answer:
        return HttpResponse.json(200, model_object(await self._router.model(model_id)))

    async def _generate(self, call: GenerationCall, *, chat: bool) -> Answer:
        cid = new_id("chatcmpl" if chat else "cmpl")
        created = now()
        if not call.stream:
            response = await self._router.complete(call.request, source=SOURCE)
            shape = chat_completion if chat else text_completion
            return HttpResponse.json(200, shape(response, cid, created))
        chunks = self._router.stream(call.request, source=SOURCE)
        try:
            first: LanguageModelChunk | None = await anext(chunks)
        except StopAsyncIteration:
            first = None  # an empty answer is still an answer
        except BaseException:
            await _close(chunks)
            raise  # before any byte is sent: the caller gets a real status
        # The chosen model is known only from the last chunk's response; until then the
        # chunks name what was asked for.
        model = call.request.model or "auto"
        frames = StreamFrames(chat, cid, created, model, call.include_usage)
        body = _sse(chunks, first, frames)
        return StreamingResponse(200, body, list(SSE_HEADERS))


async def _sse(
    chunks: AsyncIterator[LanguageModelChunk],
    first: LanguageModelChunk | None,
    frames: StreamFrames,
) -> AsyncIterator[bytes]:
    try:
        start = frames.start()
        if start is not None:
            yield start
        chunk, last = first, None
        while chunk is not None:
            if chunk.text:
                yield frames.text(chunk.text)
            if chunk.is_complete:
                last = chunk
                break
            chunk = await anext(chunks, None)
        response = last.response if last is not None else None
        if response is not None:
            frames.model = response.model_id
        reason = last.finish_reason if last is not None else None
        yield frames.finish(reason or (response.finish_reason if response else None))
        if frames.include_usage:
            yield frames.usage(response.usage if response is not None else TokenUsage())
        yield DONE
    except Exception as exc:
        error = from_exception(exc)
        log.warning("gateway: stream failed after it started: %s", error.message)
        yield sse(error.body())
        yield DONE
    finally:
        await _close(chunks)  # a hang-up lands here too: the router stops generating


async def _close(chunks: AsyncIterator[Any]) -> None:
    close = getattr(chunks, "aclose", None)
    if close is not None:
        await close()

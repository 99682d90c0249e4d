"""The Ollama endpoints: ``/api/chat``, ``/api/generate``, ``/api/embed``, ``/api/embeddings``,
``/api/tags``, ``/api/ps``, ``/api/show``, ``/api/version``, and ``GET``/``HEAD /`` ("Ollama is
running", which clients probe before anything else).

Generation goes through the same router as the OpenAI routes (source ``ollama``), so it is
routed, falls back and is recorded alike. Errors are Ollama's ``{"error": "..."}`` with the
status Ollama gives: 400 for a bad body, 404 ``model 'x' not found``. Streams are NDJSON, one
object a line, as long as ``stream`` is not false; like the OpenAI side, a stream starts only
once the router produced its first piece, and a failure after that is a last
``{"error": "..."}`` line, as Ollama ends a stream that broke.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from lexitui.domain.language_model import LanguageModelChunk, LanguageModelResponse
from lexitui.gateway.errors import ApiError, from_exception
from lexitui.gateway.http import HttpRequest, HttpResponse, StreamingResponse
from lexitui.gateway.ollama_catalog import CatalogModel, OllamaCatalog
from lexitui.gateway.ollama_format import (
    Timings,
    embed_answer,
    final,
    line,
    load_answer,
    piece,
    ps,
    show,
    tags,
)
from lexitui.gateway.ollama_wire import (
    OllamaCall,
    chat_call,
    embed_request,
    embeddings_request,
    generate_call,
    model_name,
)
from lexitui.gateway.openai_wire import parse_body
from lexitui.gateway.routes import GatewayRouter
from lexitui.routing.errors import ProviderError, UnknownModel

log = logging.getLogger(__name__)

SOURCE = "ollama"  # how the router records requests that came through this API
# The Ollama release whose API this follows; clients check it for features, not for equality.
VERSION = "0.12.0"
NDJSON_HEADERS = [("content-type", "application/x-ndjson"), ("cache-control", "no-cache")]
RUNNING = b"Ollama is running"
# Paths anyone may read without the key (Ollama has no keys; clients probe these first).
OPEN_PATHS = frozenset({"/", "/api/version"})

Answer = HttpResponse | StreamingResponse


@dataclass(eq=False)
class OllamaError(ApiError):
    """An error answer in Ollama's shape: ``{"error": "message"}``."""

    def body(self) -> dict[str, Any]:
        return {"error": self.message}


def ollama_error(exc: BaseException, model: str | None = None) -> OllamaError:
    if isinstance(exc, OllamaError):
        return exc
    if isinstance(exc, UnknownModel) or (isinstance(exc, ProviderError) and exc.status == 404):
        name = exc.model if isinstance(exc, UnknownModel) else model
        return not_found(name or "")
    error = from_exception(exc)
    return OllamaError(error.status, error.message, headers=error.headers)


def not_found(model: str) -> OllamaError:
    return OllamaError(404, f"model '{model}' not found")


class OllamaRoutes:
    def __init__(self, router: GatewayRouter, catalog: OllamaCatalog | None) -> None:
        self._router = router
        self._catalog = catalog
        self._routes: dict[tuple[str, str], Callable[[HttpRequest], Awaitable[Answer]]] = {
            ("GET", "/"): self._running,
            ("GET", "/api/version"): self._version,
            ("GET", "/api/tags"): self._tags,
            ("GET", "/api/ps"): self._ps,
            ("POST", "/api/show"): self._show,
            ("POST", "/api/chat"): self._chat,
            ("POST", "/api/generate"): self._generate,
            ("POST", "/api/embed"): self._embed,
            ("POST", "/api/embeddings"): self._embeddings,
        }

    @staticmethod
    def serves(path: str) -> bool:
        return path == "/" or path == "/api" or path.startswith("/api/")

    async def __call__(self, request: HttpRequest) -> Answer:
        try:
            return await self._dispatch(request)
        except Exception as exc:
            return HttpResponse.error(ollama_error(exc))

    async def _dispatch(self, request: HttpRequest) -> Answer:
        path = request.path.rstrip("/") or "/"
        method = "GET" if request.method == "HEAD" else request.method  # HEAD: GET's head
        handler = self._routes.get((method, path))
        if handler is not None:
            return await handler(request)
        if any(known == path for _, known in self._routes):
            raise OllamaError(405, "405 method not allowed")
        raise OllamaError(404, "404 page not found")

    async def _running(self, request: HttpRequest) -> Answer:
        return HttpResponse(200, RUNNING, [("content-type", "text/plain; charset=utf-8")])

    async def _version(self, request: HttpRequest) -> Answer:
        return HttpResponse.json(200, {"version": VERSION})

    async def _tags(self, request: HttpRequest) -> Answer:
        models = await self._catalog.installed() if self._catalog else []
        return HttpResponse.json(200, tags(models))

    async def _ps(self, request: HttpRequest) -> Answer:
        loaded = await self._catalog.loaded() if self._catalog else []
        return HttpResponse.json(200, ps(loaded))

    async def _show(self, request: HttpRequest) -> Answer:
        name = model_name(parse_body(request.body))
        entry = await self._find(name)
        if entry is None:
            raise not_found(name)
        return HttpResponse.json(200, show(entry))

    async def _chat(self, request: HttpRequest) -> Answer:
        return await self._answer(chat_call(parse_body(request.body)))

    async def _generate(self, request: HttpRequest) -> Answer:
        return await self._answer(generate_call(parse_body(request.body)))

    async def _embed(self, request: HttpRequest) -> Answer:
        started = time.perf_counter_ns()
        body = parse_body(request.body)
        model, embedding = embed_request(body)
        if embedding is None:  # no input: Ollama loads the model and answers no vectors
            await self._load(model, body.get("keep_alive"))
            return HttpResponse.json(200, embed_answer(model, [], 0, _since(started)))
        try:
            model_id = await self._known(model)
            response = await self._router.embed(replace(embedding, model=model_id), source=SOURCE)
        except Exception as exc:
            raise ollama_error(exc, model) from exc
        answer = embed_answer(model, response.embeddings, response.prompt_tokens, _since(started))
        return HttpResponse.json(200, answer)

    async def _embeddings(self, request: HttpRequest) -> Answer:
        model, embedding = embeddings_request(parse_body(request.body))
        if embedding is None:  # Ollama answers an empty prompt with an empty vector
            await self._known(model)
            return HttpResponse.json(200, {"embedding": []})
        try:
            model_id = await self._known(model)
            response = await self._router.embed(replace(embedding, model=model_id), source=SOURCE)
        except Exception as exc:
            raise ollama_error(exc, model) from exc
        return HttpResponse.json(200, {"embedding": response.embeddings[0]})

    async def _answer(self, call: OllamaCall) -> Answer:
        if call.request is None:
            reason = "unload" if call.unloads else "load"
            if call.unloads:
                await self._unload(call.model)
            else:
                await self._load(call.model, call.keep_alive)
            return HttpResponse.json(200, load_answer(call.model, reason, chat=call.chat))
        started = time.perf_counter_ns()
        try:
            request = replace(call.request, model=await self._known(call.model))
            if not call.stream:
                response = await self._router.complete(request, source=SOURCE)
                timings = Timings.of(response, _since(started))
                said = response.finish_reason
                body = final(call.model, response.text, said, timings, chat=call.chat)
                return HttpResponse.json(200, body)
            chunks = self._router.stream(request, source=SOURCE)
            try:
                first: LanguageModelChunk | None = await anext(chunks)
            except StopAsyncIteration:
                first = None  # an empty answer is still an answer
            except BaseException:
                await _close(chunks)
                raise  # before any byte is sent: the client gets a real status
        except Exception as exc:
            raise ollama_error(exc, call.model) from exc
        body_lines = _ndjson(chunks, first, call, started)
        return StreamingResponse(200, body_lines, list(NDJSON_HEADERS))

    async def _known(self, name: str) -> str:
        """The id the router should be asked for; 404 when neither an installed model nor a
        provider answers to ``name`` (never an answer from another model)."""
        found = await self._find(name)
        if found is not None:
            return found.model.id
        if any(m.id == name for m in await self._router.models()):
            return name
        raise not_found(name)

    async def _find(self, name: str) -> CatalogModel | None:
        return await self._catalog.find(name) if self._catalog else None

    async def _load(self, name: str, keep_alive: object) -> None:
        entry = await self._find(name)
        if entry is None:
            await self._known(name)  # a provider's model: nothing to load here
            return
        assert self._catalog is not None
        try:
            await self._catalog.load(entry, keep_alive)
        except Exception as exc:
            raise ollama_error(exc, name) from exc

    async def _unload(self, name: str) -> None:
        entry = await self._find(name)
        if entry is None:
            await self._known(name)
            return
        assert self._catalog is not None
        await self._catalog.unload(entry)


async def _ndjson(
    chunks: AsyncIterator[LanguageModelChunk],
    first: LanguageModelChunk | None,
    call: OllamaCall,
    started: int,
) -> AsyncIterator[bytes]:
    try:
        chunk = first
        response: LanguageModelResponse | None = None
        reason: str | None = None
        while chunk is not None:
            if chunk.text:
                yield line(piece(call.model, chunk.text, chat=call.chat))
            if chunk.is_complete:
                response = chunk.response
                reason = chunk.finish_reason or (response.finish_reason if response else None)
                break
            chunk = await anext(chunks, None)
        timings = Timings.of(response, _since(started))
        yield line(final(call.model, "", reason, timings, chat=call.chat))
    except Exception as exc:
        error = ollama_error(exc, call.model)
        log.warning("gateway: Ollama stream failed after it started: %s", error.message)
        yield line(error.body())
    finally:
        await _close(chunks)  # a hang-up lands here too: the router stops generating


def _since(started_ns: int) -> int:
    return time.perf_counter_ns() - started_ns


async def _close(chunks: AsyncIterator[Any]) -> None:
    close = getattr(chunks, "aclose", None)
    if close is not None:
        await close()

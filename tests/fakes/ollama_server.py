"""A fake Ollama server that follows Ollama's published REST API (docs/api.md), for tests.

Generation is real: ``/api/generate``, ``/api/chat`` and ``/api/embed`` go to the embedded
llama.cpp engine at ``engine_url``. Everything else (models, loaded state with ``keep_alive``,
registry pulls, blobs, create) is simulated in memory and a temporary blob folder.

Usage::

    async with FakeOllama(engine_url) as fake:
        async with httpx.AsyncClient(base_url=fake.base_url) as client: ...

Knobs for fault tests: ``pull_delay_s`` (sleep before each pulled chunk), ``fail_next`` (answer
the next request, whatever it is, with that HTTP status and an ``{"error": ...}`` body),
``pull_corrupt`` (the next pulled layer fails sha256 verification). ``requests`` records every
``(method, path, json_body)`` received.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any

from tests.fakes.ollama_generate import GenerateRoutes
from tests.fakes.ollama_http import Request, Response, ThreadedServer, error_response, json_response
from tests.fakes.ollama_models import FakeModel, normalize_name
from tests.fakes.ollama_state import not_found
from tests.fakes.ollama_transfer import TransferRoutes

JsonRoute = Callable[[dict[str, Any]], Awaitable[Response]]
TEXT = "text/plain; charset=utf-8"


class FakeOllama(GenerateRoutes, TransferRoutes):
    def __init__(self, engine_url: str | None, models: dict[str, FakeModel] | None = None) -> None:
        super().__init__(engine_url, models)
        self.base_url = ""
        self._server = ThreadedServer(self._dispatch)
        self._json_routes: dict[tuple[str, str], JsonRoute] = {
            ("POST", "/api/generate"): self.generate,
            ("POST", "/api/chat"): self.chat,
            ("POST", "/api/embed"): self.embed,
            ("POST", "/api/embeddings"): self.embeddings,
            ("POST", "/api/show"): self.show,
            ("POST", "/api/copy"): self.copy,
            ("DELETE", "/api/delete"): self.delete,
            ("POST", "/api/pull"): self.pull,
            ("POST", "/api/create"): self.create,
        }

    async def start(self) -> str:
        port = await self._server.start()
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        await self._server.stop()
        self.cleanup()

    async def __aenter__(self) -> FakeOllama:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- dispatch -----------------------------------------------------------------------------

    async def _dispatch(self, request: Request) -> Response:
        method, path = request.method, request.path
        body: Any = None
        problem: Response | None = None
        if (method, path) in self._json_routes:
            body, problem = parse_body(await request.body())
        self.requests.append((method, path, body))
        if self.fail_next is not None:
            status, self.fail_next = self.fail_next, None
            return error_response(status, f"injected failure (HTTP {status})")
        if path.startswith("/api/blobs/"):
            digest = path.removeprefix("/api/blobs/")
            if method == "HEAD":
                return await self.head_blob(digest)
            if method == "POST":
                return await self.post_blob(request, digest)
            return Response(405, b"405 method not allowed", TEXT)
        if (method, path) in self._json_routes:
            return problem or await self._json_routes[method, path](body)
        get = {
            "/": self.root,
            "/api/version": self.version_info,
            "/api/tags": self.tags,
            "/api/ps": self.ps,
        }
        if path in get and (method == "GET" or (method == "HEAD" and path != "/api/ps")):
            return get[path]()
        known = {p for _, p in self._json_routes} | set(get)
        if path in known:  # gin's HandleMethodNotAllowed, as Ollama configures it
            return Response(405, b"405 method not allowed", TEXT)
        return Response(404, b"404 page not found", TEXT)

    # -- small routes -------------------------------------------------------------------------

    def root(self) -> Response:
        return Response(200, b"Ollama is running", TEXT)

    def version_info(self) -> Response:
        return json_response(200, {"version": self.version})

    def tags(self) -> Response:
        newest_first = sorted(self.models.items(), key=lambda kv: -kv[1].modified_at_ns)
        return json_response(200, {"models": [m.tag_entry(n) for n, m in newest_first]})

    def ps(self) -> Response:
        running = [self.models[n].ps_entry(n, exp) for n, exp in self.loaded_now().items()]
        return json_response(200, {"models": running})

    async def show(self, body: dict[str, Any]) -> Response:
        raw = body.get("model") or body.get("name")
        if not raw:
            return error_response(400, "model is required")
        found = self.find(raw)
        if found is None:
            return not_found(raw)
        name, model = found
        reply: dict[str, Any] = {
            "modelfile": model.modelfile(name),
            "parameters": model.parameters_text(),
            "template": model.template,
            "details": model.details(),
            "model_info": model.model_info(),
            "capabilities": model.capabilities,
            "modified_at": self.models[name].tag_entry(name)["modified_at"],
        }
        if model.system:
            reply["system"] = model.system
        if model.license:
            reply["license"] = model.license
        return json_response(200, reply)

    async def copy(self, body: dict[str, Any]) -> Response:
        found = self.find(body.get("source"))
        destination = normalize_name(body.get("destination"))
        if destination is None:
            return error_response(
                400, f"destination {json.dumps(body.get('destination'))} is invalid"
            )
        if found is None:
            return error_response(404, f"model {json.dumps(body.get('source'))} not found")
        self.models[destination] = found[1]
        return Response(200, content_type=None)

    async def delete(self, body: dict[str, Any]) -> Response:
        raw = body.get("model") or body.get("name")
        if not raw:
            return error_response(400, "model is required")
        found = self.find(raw)
        if found is None:
            return not_found(raw)
        del self.models[found[0]]
        self.loaded.pop(found[0], None)
        return Response(200, content_type=None)


def parse_body(raw: bytes) -> tuple[Any, Response | None]:
    """A JSON object body, or the 400 Ollama answers for an empty or malformed one."""
    if not raw.strip():
        return None, error_response(400, "missing request body")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        return None, error_response(400, f"invalid character in request body: {exc}")
    if not isinstance(body, dict):
        kind = "array" if isinstance(body, list) else type(body).__name__
        return body, error_response(400, f"json: cannot unmarshal {kind} into Go value")
    return body, None


@asynccontextmanager
async def fake_ollama(
    engine_url: str | None = None, models: dict[str, FakeModel] | None = None
) -> AsyncIterator[FakeOllama]:
    """Start a fake for the length of a ``with`` block (a pytest fixture can ``yield`` it)."""
    async with FakeOllama(engine_url, models) as fake:
        yield fake

"""``/api/generate``, ``/api/chat``, ``/api/embed`` and ``/api/embeddings``, shaped as documented.

Streaming is the default: one JSON object per line, ``done: false`` pieces, then a ``done: true``
object carrying ``done_reason`` and the engine's real counts and durations (nanoseconds). An empty
prompt (or empty ``messages``) loads the model (``done_reason: "load"``); with ``keep_alive: 0``
it unloads it (``done_reason: "unload"``). Errors before any output are ``{"error": ...}`` with a
status; errors mid-stream are an ``{"error": ...}`` line, as Ollama does.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from typing import Any

from tests.fakes.ollama_engine import EngineFailure, Finish
from tests.fakes.ollama_http import Response, error_response, json_response, ndjson_response
from tests.fakes.ollama_models import FakeModel, parse_keep_alive
from tests.fakes.ollama_state import FakeState, not_found, now_utc

Shape = Callable[[str], dict[str, Any]]
BAD_MESSAGES = (
    "json: cannot unmarshal {} into Go struct field ChatRequest.messages of type []api.Message"
)

BAD_OPTIONS = "json: cannot unmarshal options into Go struct field of type map[string]interface {}"


class GenerateRoutes(FakeState):
    def _preflight(
        self, body: dict[str, Any], needs: list[tuple[str, str]]
    ) -> tuple[str, FakeModel, int] | Response:
        raw = body.get("model")
        if not raw:
            return error_response(400, "model is required")
        found = self.find(raw)
        if found is None:
            return not_found(raw)
        name, model = found
        try:
            keep = parse_keep_alive(body.get("keep_alive"))
        except ValueError as exc:
            return error_response(400, str(exc))
        think = body.get("think")
        if think not in (None, False) and "thinking" not in model.capabilities:
            return error_response(400, f'"{raw}" does not support thinking')
        for capability, verb in needs:
            if capability not in model.capabilities:
                return error_response(400, f'"{raw}" does not support {verb}')
        if not isinstance(body.get("options") or {}, dict):
            return error_response(400, BAD_OPTIONS)
        fmt = body.get("format")
        if fmt not in (None, "", "json") and not isinstance(fmt, dict):
            return error_response(400, 'invalid format: expected "json" or a valid JSON schema')
        return name, model, keep

    async def generate(self, body: dict[str, Any]) -> Response:
        needs = [("completion", "generate")] + (
            [("insert", "insert")] if body.get("suffix") else []
        )
        checked = self._preflight(body, needs)
        if isinstance(checked, Response):
            return checked
        name, model, keep = checked
        prompt = str(body.get("prompt") or "")
        shape: Shape = lambda text: {"response": text}  # noqa: E731
        if not prompt:
            return await self._load_or_unload(body["model"], name, keep, shape)
        options = {**model.parameters, **(body.get("options") or {})}
        fmt = body.get("format") or None
        if body.get("raw"):
            pieces = self.engine.complete(prompt, options, fmt)
            context = None
        else:
            system = body.get("system") or model.system
            messages = [{"role": "system", "content": system}] if system else []
            messages.append({"role": "user", "content": prompt})
            pieces = self.engine.chat(messages, options, fmt)

            async def context(text: str) -> dict[str, Any]:
                # Deprecated but documented: the conversation's tokens, for the next request.
                return {"context": await self.engine.tokenize(prompt + text)}

        return await self._answer(body, name, keep, pieces, shape, context)

    async def chat(self, body: dict[str, Any]) -> Response:
        needs = [("completion", "chat")] + ([("tools", "tools")] if body.get("tools") else [])
        checked = self._preflight(body, needs)
        if isinstance(checked, Response):
            return checked
        name, model, keep = checked
        raw_messages = body.get("messages") or []
        if not isinstance(raw_messages, list) or not all(isinstance(m, dict) for m in raw_messages):
            kind = "string" if isinstance(raw_messages, str) else "object"
            return error_response(400, BAD_MESSAGES.format(kind))
        shape: Shape = lambda text: {"message": {"role": "assistant", "content": text}}  # noqa: E731
        if not raw_messages:
            return await self._load_or_unload(body["model"], name, keep, shape)
        messages = [
            {"role": str(m.get("role", "user")), "content": str(m.get("content") or "")}
            for m in raw_messages
        ]
        if model.system and not any(m["role"] == "system" for m in messages):
            messages.insert(0, {"role": "system", "content": model.system})
        options = {**model.parameters, **(body.get("options") or {})}
        pieces = self.engine.chat(messages, options, body.get("format") or None)
        return await self._answer(body, name, keep, pieces, shape, None)

    async def _load_or_unload(self, raw: str, name: str, keep: int, shape: Shape) -> Response:
        reply = {"model": raw, "created_at": now_utc(), **shape(""), "done": True}
        if keep == 0:
            self.loaded.pop(name, None)
            return json_response(200, {**reply, "done_reason": "unload"})
        try:
            await self.load(name)
        except EngineFailure as exc:
            return error_response(exc.status, exc.message)
        self.keep(name, keep)
        return json_response(200, {**reply, "done_reason": "load"})

    async def _answer(
        self,
        body: dict[str, Any],
        name: str,
        keep: int,
        pieces: AsyncGenerator[str | Finish, None],
        shape: Shape,
        context: Callable[[str], Awaitable[dict[str, Any]]] | None,
    ) -> Response:
        started = time.perf_counter_ns()
        raw_name = body["model"]
        try:
            load_ns = await self.load(name)
            first = await anext(pieces)
        except (EngineFailure, StopAsyncIteration) as exc:
            self.keep(name, keep)
            await pieces.aclose()
            message = exc.message if isinstance(exc, EngineFailure) else "engine sent nothing"
            return error_response(getattr(exc, "status", 500), message)

        async def final(fin: Finish, text: str) -> dict[str, Any]:
            extra = await context(text) if context else {}
            return {
                "model": raw_name,
                "created_at": now_utc(),
                **shape(text),
                "done": True,
                "done_reason": fin.done_reason,
                **extra,
                "total_duration": time.perf_counter_ns() - started,
                "load_duration": load_ns,
                "prompt_eval_count": fin.prompt_eval_count,
                "prompt_eval_duration": fin.prompt_eval_duration,
                "eval_count": fin.eval_count,
                "eval_duration": fin.eval_duration,
            }

        async def objects(streaming: bool) -> AsyncGenerator[dict[str, Any], None]:
            text: list[str] = []
            item: str | Finish = first
            async with aclosing(pieces):
                try:
                    while not isinstance(item, Finish):
                        text.append(item)
                        if streaming:
                            yield {
                                "model": raw_name,
                                "created_at": now_utc(),
                                **shape(item),
                                "done": False,
                            }
                        item = await anext(pieces)
                    yield await final(item, "" if streaming else "".join(text))
                finally:
                    self.keep(name, keep)

        if body.get("stream", True) is not False:
            return ndjson_response(errors_as_lines(objects(True)))
        try:
            results = [obj async for obj in objects(False)]
        except EngineFailure as exc:
            return error_response(exc.status, exc.message)
        return json_response(200, results[-1])

    async def embed(self, body: dict[str, Any]) -> Response:
        checked = self._preflight(body, [])
        if isinstance(checked, Response):
            return checked
        name, _model, keep = checked
        given = body.get("input")
        if isinstance(given, str):
            inputs = [given]
        elif given is None or (isinstance(given, list) and all(isinstance(s, str) for s in given)):
            inputs = list(given or [])
        else:
            return error_response(400, "invalid input type")
        started = time.perf_counter_ns()
        try:
            load_ns = await self.load(name)
            vectors, count = await self.engine.embed(inputs)
        except EngineFailure as exc:
            return error_response(exc.status, exc.message)
        finally:
            self.keep(name, keep)
        dimensions = body.get("dimensions")
        if isinstance(dimensions, int) and dimensions > 0:
            vectors = [unit(v[:dimensions]) for v in vectors]
        return json_response(
            200,
            {
                "model": body["model"],
                "embeddings": vectors,
                "total_duration": time.perf_counter_ns() - started,
                "load_duration": load_ns,
                "prompt_eval_count": count,
            },
        )

    async def embeddings(self, body: dict[str, Any]) -> Response:
        """The superseded endpoint: one ``prompt`` in, one ``embedding`` out."""
        checked = self._preflight(body, [])
        if isinstance(checked, Response):
            return checked
        name, _model, keep = checked
        prompt = body.get("prompt") or ""
        try:
            await self.load(name)
            vectors, _ = await self.engine.embed([prompt] if prompt else [])
        except EngineFailure as exc:
            return error_response(exc.status, exc.message)
        finally:
            self.keep(name, keep)
        return json_response(200, {"embedding": vectors[0] if vectors else []})


async def errors_as_lines(
    objects: AsyncGenerator[dict[str, Any], None],
) -> AsyncGenerator[dict[str, Any], None]:
    async with aclosing(objects):
        try:
            async for obj in objects:
                yield obj
        except EngineFailure as exc:
            yield {"error": exc.message}


def unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]

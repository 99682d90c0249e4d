"""A model loaded in Ollama: streamed ``/api/generate`` or ``/api/chat``, and ``/api/embed``.

Every request repeats the load options: Ollama compares a request's options with the running
model's and reloads it when they differ, so leaving them out would silently reload the model
with defaults (a different context size) on the first prompt.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from lexitui.backends.base import ModelInstance, chat_messages
from lexitui.backends.ollama_records import load_options, sampling_options
from lexitui.backends.wire import ndjson
from lexitui.domain.backends import (
    EmbeddingResult,
    GenerationRequest,
    GenerationToken,
    ModelLoadOptions,
)

if TYPE_CHECKING:
    from lexitui.backends.ollama import OllamaBackend


class OllamaModelInstance(ModelInstance):
    def __init__(
        self, backend: OllamaBackend, model_id: str, options: ModelLoadOptions | None
    ) -> None:
        super().__init__(backend, model_id, options)
        self._ollama = backend

    def _base(self, request: GenerationRequest | None = None) -> dict[str, Any]:
        options = load_options(self.load_options)
        if request is not None:
            options |= sampling_options(request)
        body: dict[str, Any] = {"model": self.model_id}
        if options:
            body["options"] = options
        if self.load_options.keep_alive is not None:
            body["keep_alive"] = self.load_options.keep_alive
        return body

    async def _stream(self, request: GenerationRequest) -> AsyncGenerator[GenerationToken, None]:
        api = self._ollama
        chat = bool(request.messages or request.system_prompt)
        body = self._base(request) | {"stream": True}
        if chat:
            path, body["messages"] = "/api/chat", chat_messages(request)
        else:
            path, body["prompt"] = "/api/generate", request.prompt
        final: dict[str, Any] | None = None
        async with api.transport.stream(
            "POST", path, json=body, idle_timeout=api.idle_timeout
        ) as resp:
            async for event in ndjson(resp, api.transport):
                piece = (
                    (event.get("message") or {}).get("content") if chat else event.get("response")
                )
                if isinstance(piece, str) and piece:
                    yield GenerationToken(piece)
                if event.get("done"):
                    final = event
                    break
        if final is None:
            raise api.transport.protocol_error(f"{path} stream ended without a final 'done' line")
        yield GenerationToken(
            "",
            is_complete=True,
            finish_reason=final.get("done_reason"),
            prompt_tokens=_int(final.get("prompt_eval_count")),
            completion_tokens=_int(final.get("eval_count")),
        )

    async def _embed(self, texts: list[str]) -> EmbeddingResult:
        api = self._ollama
        body = self._base() | {"input": texts}
        data = await api.transport.post_json("/api/embed", body, timeout=api.request_timeout)
        rows = data.get("embeddings") if isinstance(data, dict) else None
        if not isinstance(rows, list) or len(rows) != len(texts):
            raise api.transport.protocol_error("/api/embed answer has no vector per input")
        try:
            vectors = tuple(tuple(float(x) for x in row) for row in rows)
        except (TypeError, ValueError):
            raise api.transport.protocol_error("/api/embed answer has a malformed vector") from None
        return EmbeddingResult(
            model=str(data.get("model") or self.model_id),
            vectors=vectors,
            prompt_tokens=_int(data.get("prompt_eval_count")),
        )

    async def _unload(self) -> None:
        await self._ollama.unload(self.model_id)


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None

"""Sends requests to one loaded model in turn, and accounts for them.

Requests wait on the model's ``slots`` (one per engine slot) with a queue timeout. A request the
engine refused before answering (busy, restarting, connection refused) is sent again with
backoff; once text has streamed a failure ends it with ``GenerationError`` (nothing is
repeated). Each finished answer updates the model's figures and publishes
``LocalGenerationCompleted``; each failure publishes ``GenerationFailed`` with the engine's own
reason when it died ("killed by SIGKILL" rather than "connection reset"). An answer stopped by
its reader (the stream closed early) leaves its prompt and the text so far in the slot: the
model is marked so the context manager counts them again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from dataclasses import replace

from lexitui.domain.inference import (
    LocalEmbeddingRequest,
    LocalEmbeddingResult,
    LocalGenerationChunk,
    LocalGenerationRequest,
    LocalGenerationResult,
)
from lexitui.events import EventBus, GenerationFailed, GenerationStarted, LocalGenerationCompleted
from lexitui.runtime.embeddings import embed
from lexitui.runtime.errors import GenerationError
from lexitui.runtime.generation import stream_generation
from lexitui.runtime.loaded_engine import LoadedEngine
from lexitui.runtime.remote import embed_remote, stream_remote
from lexitui.runtime.settings import RuntimeSettings

RETRY_DELAY_S = 0.25
EXIT_GRACE_S = 0.05  # time for the exit watcher to record why an engine died


class RequestLine:
    def __init__(
        self,
        bus: EventBus,
        settings: Callable[[], RuntimeSettings],
        still_loaded: Callable[[LoadedEngine], bool],
    ) -> None:
        self._bus = bus
        self._settings = settings
        self._still_loaded = still_loaded

    async def stream(
        self, engine: LoadedEngine, request: LocalGenerationRequest
    ) -> AsyncGenerator[LocalGenerationChunk]:
        wait = self._settings().queue_timeout_s
        engine.hold()  # waiting in line: the model is not idle (its keep-alive must not end it)
        engine.waiting_requests += 1  # and the router counts it as in flight
        try:
            await asyncio.wait_for(engine.slots.acquire(), wait)
        except TimeoutError:
            engine.release()
            raise GenerationError(f"{engine.model.id} stayed busy for {wait:.0f} s") from None
        except BaseException:
            engine.release()
            raise
        finally:
            engine.waiting_requests -= 1
        engine.began()
        engine.release()
        pieces: list[str] = []
        finished = False
        attempts = self._attempts(engine, request)
        try:
            self._bus.publish(GenerationStarted(engine.id, engine.model.id, 0))
            async for chunk in attempts:
                pieces.append(chunk.text)
                finished = finished or chunk.result is not None
                yield chunk
        except (GeneratorExit, asyncio.CancelledError):
            # Stopped by the reader (closed or cancelled): what the slot holds is unknown here.
            if not finished and engine.instance is None and self._still_loaded(engine):
                engine.last_exchange = (request, "".join(pieces))
                engine.known_tokens = None
                engine.context_pending = True
            raise
        finally:
            # Closed here, not left to the garbage collector (which closes an unfinished
            # generator later, in a task of its own): the engine's stream ends at once.
            await attempts.aclose()
            engine.ended()
            engine.slots.release()

    async def _attempts(
        self, engine: LoadedEngine, request: LocalGenerationRequest
    ) -> AsyncGenerator[LocalGenerationChunk]:
        retries = self._settings().retries
        for attempt in range(retries + 1):
            sent_text = False
            answer: AsyncGenerator[LocalGenerationChunk] | None = None
            try:
                answer = self._send(engine, request)
                async for chunk in answer:
                    sent_text = sent_text or bool(chunk.text)
                    if chunk.result is not None:
                        chunk = self._finished(engine, request, chunk.result)
                    yield chunk
                return
            except GenerationError as exc:
                retry = exc.retryable and not sent_text and attempt < retries
                if retry and self._still_loaded(engine):
                    await asyncio.sleep(RETRY_DELAY_S * 2**attempt)
                    continue
                await asyncio.sleep(EXIT_GRACE_S)
                reason = engine.error or str(exc)
                self._bus.publish(GenerationFailed(engine.id, engine.model.id, reason))
                raise GenerationError(reason) from exc
            finally:
                if answer is not None:
                    await answer.aclose()

    def _send(
        self, engine: LoadedEngine, request: LocalGenerationRequest
    ) -> AsyncGenerator[LocalGenerationChunk]:
        if not self._still_loaded(engine):
            raise GenerationError(engine.error or f"{engine.model.id} was unloaded")
        if engine.instance is not None:
            return stream_remote(engine.instance, request)
        if engine.client is None:
            raise GenerationError(f"{engine.model.id} is not running")
        timeout = self._settings().first_token_timeout_s
        return stream_generation(
            engine.client, request, engine.model.id, first_token_timeout=timeout
        )

    def _finished(
        self, engine: LoadedEngine, request: LocalGenerationRequest, result: LocalGenerationResult
    ) -> LocalGenerationChunk:
        result = replace(result, loaded_model_id=engine.id)
        engine.record(result)
        metrics = result.metrics
        self._bus.publish(
            LocalGenerationCompleted(
                model_id=engine.model.id,
                completion_tokens=result.usage.completion_tokens,
                tokens_per_second=metrics.tokens_per_second,
                time_to_first_token_ms=metrics.ttft_ms,
                loaded_model_id=engine.id,
                prompt_tokens=result.usage.prompt_tokens,
                total_ms=metrics.total_ms,
                prompt_eval_tokens_per_second=metrics.prompt_eval_tokens_per_second,
            )
        )
        engine.last_exchange = (request, result.text)  # what the context holds, for truncation
        engine.known_tokens = None
        engine.context_pending = False
        return LocalGenerationChunk(
            text="",
            is_complete=True,
            finish_reason=result.finish_reason,
            token_index=result.usage.completion_tokens,
            result=result,
        )

    async def embed(
        self, engine: LoadedEngine, request: LocalEmbeddingRequest
    ) -> LocalEmbeddingResult:
        if engine.instance is None and (not engine.options.embedding or engine.client is None):
            raise GenerationError(f"{engine.model.id} was loaded without embeddings: reload it")
        engine.began()
        try:
            if engine.instance is not None:
                return await embed_remote(engine.instance, request)
            assert engine.client is not None
            return await embed(engine.client, engine.model.id, request)
        finally:
            engine.ended()

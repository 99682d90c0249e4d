"""Loads an installed model into the embedded engine and chats with it.

One model is loaded at a time (the walking skeleton); loading another unloads the first. The
engine is watched: if it dies, the service says so on the inference stream and returns to
"nothing loaded" instead of leaving a dead URL behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lexitui.domain.models import InstalledModel
from lexitui.events import EventBus, LocalGenerationCompleted, ModelLoaded, ModelUnloaded
from lexitui.runtime.chat import (
    ChatFinished,
    ChatMessage,
    GenerationParams,
    TokenDelta,
    stream_chat,
)
from lexitui.runtime.engine import EngineOptions, EngineProcess
from lexitui.storage.registry import ModelRegistry

if TYPE_CHECKING:
    import httpx


class NoModelLoaded(RuntimeError):
    pass


class RuntimeService:
    def __init__(self, registry: ModelRegistry, bus: EventBus, logs_dir: Path) -> None:
        self._registry = registry
        self._bus = bus
        self._logs_dir = logs_dir
        self._engine: EngineProcess | None = None
        self._model: InstalledModel | None = None
        self._client: httpx.AsyncClient | None = None
        self._watch: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def loaded_model(self) -> InstalledModel | None:
        return self._model

    @property
    def engine_url(self) -> str | None:
        return self._engine.base_url if self._engine and self._engine.running else None

    def log_path(self, model_id: str) -> Path:
        return self._logs_dir / f"engine-{model_id.replace(':', '_')}.log"

    async def load(self, model_id: str, options: EngineOptions | None = None) -> InstalledModel:
        """Start the engine with the model; raises EngineError with the engine's reason."""
        async with self._lock:
            model = await self._registry.get(model_id)
            if self._model and self._model.id == model.id and self._engine and self._engine.running:
                return model
            await self._unload_locked("another model was loaded")
            engine = EngineProcess(Path(model.path), self.log_path(model.id), options)
            started = time.perf_counter()
            await engine.start()
            self._engine, self._model = engine, model
            import httpx  # deferred: keeps ~60 ms of imports off the app's start-up path

            self._client = httpx.AsyncClient(base_url=engine.base_url, timeout=30.0)
            self._watch = asyncio.get_running_loop().create_task(self._watch_engine(engine))
            await self._registry.touch(model.id)
            self._bus.publish(
                ModelLoaded(
                    model_id=model.id,
                    backend="embedded llama.cpp",
                    load_seconds=time.perf_counter() - started,
                )
            )
            return model

    async def _watch_engine(self, engine: EngineProcess) -> None:
        code = await engine.wait()
        if self._engine is engine:
            model_id = self._model.id if self._model else "?"
            self._engine = self._model = None
            if self._client:
                await self._client.aclose()
                self._client = None
            self._bus.publish(
                ModelUnloaded(
                    model_id=model_id,
                    reason=f"engine exited with code {code}; log: {engine.log_path}",
                )
            )

    async def unload(self) -> None:
        async with self._lock:
            await self._unload_locked("unloaded by user")

    async def _unload_locked(self, reason: str) -> None:
        engine, model, client = self._engine, self._model, self._client
        self._engine = self._model = None
        self._client = None
        if self._watch:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        if client:
            await client.aclose()
        if engine:
            await engine.stop()
        if model:
            self._bus.publish(ModelUnloaded(model_id=model.id, reason=reason))

    async def chat(
        self, messages: Sequence[ChatMessage], params: GenerationParams | None = None
    ) -> AsyncIterator[TokenDelta | ChatFinished]:
        """Stream the loaded model's answer; publishes LocalGenerationCompleted at the end."""
        client, model = self._client, self._model
        if client is None or model is None:
            raise NoModelLoaded("no model is loaded: pick one first")
        async for piece in stream_chat(client, model.id, messages, params):
            if isinstance(piece, ChatFinished):
                self._bus.publish(
                    LocalGenerationCompleted(
                        model_id=model.id,
                        completion_tokens=piece.completion_tokens,
                        tokens_per_second=piece.tokens_per_second,
                        time_to_first_token_ms=piece.ttft_ms,
                    )
                )
            yield piece

    async def close(self) -> None:
        await self.unload()

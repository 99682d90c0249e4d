"""Loads an installed model into the embedded engine and chats with it.

The engine is the managed llama.cpp backend (``BackendManager.managed``), so the Backends area and
the chat see one and the same process. One model is loaded at a time; loading another restarts
the engine with it. If the engine dies, the backend reports it on the backends stream and this
service says so on the inference stream and returns to "nothing loaded".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from reactivex.abc import DisposableBase

from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.enums import BackendStatus
from lexitui.domain.models import InstalledModel
from lexitui.events import (
    BackendStatusChanged,
    Event,
    EventBus,
    LocalGenerationCompleted,
    ModelLoaded,
    ModelUnloaded,
)
from lexitui.runtime.chat import (
    ChatFinished,
    ChatMessage,
    GenerationParams,
    TokenDelta,
    stream_chat,
)
from lexitui.runtime.engine import EngineError
from lexitui.storage.registry import ModelRegistry

if TYPE_CHECKING:
    import httpx

    from lexitui.backends.managed import ManagedLlamaCpp

DEFAULT_LOAD = ModelLoadOptions(context_length=4096)


class NoModelLoaded(RuntimeError):
    pass


class RuntimeService:
    def __init__(self, registry: ModelRegistry, bus: EventBus, engine: ManagedLlamaCpp) -> None:
        self._registry = registry
        self._bus = bus
        self._engine = engine
        self._model: InstalledModel | None = None
        self._client: httpx.AsyncClient | None = None
        self._lock = asyncio.Lock()
        self._watch: DisposableBase = bus.backends.subscribe(self._on_backend_event)

    @property
    def loaded_model(self) -> InstalledModel | None:
        return self._model

    @property
    def engine_url(self) -> str | None:
        return self._engine.endpoint if self._engine.running else None

    @property
    def engine_pid(self) -> int | None:
        return self._engine.pid

    def log_path(self, model_id: str) -> Path:
        return self._engine.logs_dir / f"llamacpp-{model_id.replace(':', '_')}.log"

    async def load(self, model_id: str, options: ModelLoadOptions | None = None) -> InstalledModel:
        """Start the engine with the model; raises EngineError with the engine's reason."""
        async with self._lock:
            model = await self._registry.get(model_id)
            if self._model and self._model.id == model.id and self._engine.running:
                return model
            await self._forget("another model was loaded")
            started = time.perf_counter()
            # By id: the engine resolves it through the registry and names its log after it.
            result = await self._engine.start(model.id, options or DEFAULT_LOAD)
            if not result.success or not result.endpoint:
                raise EngineError(result.error or "the engine did not start")
            import httpx  # deferred: keeps ~60 ms of imports off the app's start-up path

            self._model = model
            self._client = httpx.AsyncClient(base_url=result.endpoint, timeout=30.0)
            await self._registry.touch(model.id)
            self._bus.publish(
                ModelLoaded(
                    model_id=model.id,
                    backend=f"embedded llama.cpp (pid {result.pid})",
                    load_seconds=time.perf_counter() - started,
                )
            )
            return model

    def _on_backend_event(self, event: Event) -> None:
        # The engine died under us: say why and forget the model (its URL is dead).
        if (
            isinstance(event, BackendStatusChanged)
            and event.name == self._engine.name
            and event.new is BackendStatus.ERROR
            and self._model is not None
        ):
            model, self._model = self._model, None
            client, self._client = self._client, None
            if client is not None:
                asyncio.get_running_loop().create_task(client.aclose())
            self._bus.publish(ModelUnloaded(model_id=model.id, reason=event.message))

    async def unload(self) -> None:
        async with self._lock:
            had_model = self._model is not None
            await self._forget("unloaded by user")
            if had_model or self._engine.running:
                await self._engine.stop()

    async def _forget(self, reason: str) -> None:
        model, client = self._model, self._client
        self._model = None
        self._client = None
        if client is not None:
            await client.aclose()
        if model is not None:
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
        self._watch.dispose()
        await self.unload()

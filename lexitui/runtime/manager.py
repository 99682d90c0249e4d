"""The local inference manager (roadmap ``ILocalInferenceManager``): several models loaded at once,
each in its own engine process (embedded llama.cpp or a llama-server), one of them active.

Loading checks memory first with the compatibility analyzer's numbers (the same answer Discover
and ``lexitui fit`` give): with a memory budget set, the loaded models' estimates plus the new one
must stay within it, and the new one must fit the memory free right now. When it does not, the
least recently used idle models are unloaded if the caller (or ``[runtime] auto_evict``) allows;
otherwise ``ModelDoesNotFit`` names them so the UI can offer it.

Requests queue per model (``LoadedEngine.slots``), may be re-sent when the engine refused before
answering, and fail with ``GenerationError`` once text has streamed (nothing is duplicated). An
engine that dies is reported at once: in-flight requests end with ``GenerationFailed`` and the
model with ``ModelUnloaded`` carrying the exit reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lexitui.backends.base import InferenceBackend
from lexitui.backends.errors import BackendError
from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.hardware import HardwareCapabilities
from lexitui.domain.inference import (
    LoadedModel,
    LoadedModelStatus,
    LocalEmbeddingRequest,
    LocalEmbeddingResult,
    LocalGenerationChunk,
    LocalGenerationRequest,
    LocalGenerationResult,
)
from lexitui.domain.units import format_bytes
from lexitui.editions.entitlements import OPEN, Entitlements
from lexitui.editions.tiers import Action
from lexitui.engine.errors import EngineError
from lexitui.engine.process import START_TIMEOUT_S
from lexitui.engine.state import state_path
from lexitui.engine.supervisor import EngineSupervisor
from lexitui.events import (
    EventBus,
    ModelLoaded,
    ModelLoadFailed,
    ModelLoadStarted,
    ModelUnloaded,
)
from lexitui.runtime.edition_checks import EMBEDDED, check_generation, check_load
from lexitui.runtime.errors import GenerationError, ModelDoesNotFit, NoModelLoaded
from lexitui.runtime.footprint import DEFAULT_CONTEXT, Footprint, estimate_footprint
from lexitui.runtime.idle_unloader import IdleUnloader
from lexitui.runtime.load_words import describe_options
from lexitui.runtime.loaded_engine import LoadedEngine
from lexitui.runtime.remote import describe_remote_model
from lexitui.runtime.request_line import RequestLine
from lexitui.runtime.settings import RuntimeSettings
from lexitui.store.installed_models import ModelRegistry

if TYPE_CHECKING:
    from lexitui.domain.models import InstalledModel

Detect = Callable[[], Awaitable[HardwareCapabilities]]
# Embeddings on by default: llama.cpp then serves /v1/embeddings beside chat from one process.
DEFAULT_LOAD = ModelLoadOptions(context_length=DEFAULT_CONTEXT, embedding=True)


class InferenceManager:
    def __init__(
        self,
        registry: ModelRegistry,
        bus: EventBus,
        *,
        logs_dir: Path,
        snapshots_dir: Path,
        run_dir: Path | None = None,
        detect: Detect | None = None,
        settings: RuntimeSettings | None = None,
        start_timeout: float = START_TIMEOUT_S,
        backends: Callable[[str], InferenceBackend] | None = None,
        entitlements: Callable[[], Entitlements] = lambda: OPEN,
    ) -> None:
        self._registry = registry
        self._entitlements = entitlements  # read at each check: built once, on first use
        self._bus = bus
        self.logs_dir = logs_dir
        self.snapshots_dir = snapshots_dir
        self._run_dir = run_dir
        self._detect = detect
        self.settings = settings or RuntimeSettings()
        self._start_timeout = start_timeout
        self._backends = backends
        self._line = RequestLine(bus, lambda: self.settings, lambda e: e.id in self._engines)
        self._engines: dict[str, LoadedEngine] = {}
        self.idle_unloader = IdleUnloader(self._engines.values, self.unload)  # keep-alive
        self._closing_clients: set[asyncio.Task[None]] = set()  # awaited by close()
        self._active: str | None = None
        self._load_lock = asyncio.Lock()
        # Told of each engine that died without being asked to (``EngineReloader`` listens),
        # which says here what it does about it: the reason callers get meanwhile.
        self.on_engine_exit: list[Callable[[LoadedEngine, str], None]] = []
        self.crash_notice: str | None = None

    # --- what is loaded -------------------------------------------------------------------

    def loaded_models(self) -> list[LoadedModel]:
        return [e.snapshot(e.rss()) for e in self._engines.values()]

    @property
    def active_model(self) -> LoadedModel | None:
        engine = self._engines.get(self._active or "")
        return engine.snapshot(engine.rss()) if engine else None

    def set_active(self, loaded_id: str) -> LoadedModel:
        self._active = self.engine(loaded_id).id
        active = self.active_model
        assert active is not None
        return active

    def engine(self, model: str | None = None) -> LoadedEngine:
        """A loaded model by load id or model id; the active one when ``model`` is None."""
        if model is None:
            if self._active is None or self._active not in self._engines:
                raise NoModelLoaded("no model is loaded: load one first")
            return self._engines[self._active]
        if model in self._engines:
            return self._engines[model]
        for engine in self._engines.values():
            if engine.model.id == model:
                return engine
        raise NoModelLoaded(f"{model} is not loaded")

    def log_path(self, model_id: str) -> Path:
        return self.logs_dir / f"llamacpp-{model_id.replace(':', '_')}.log"

    @property
    def active_requests(self) -> int:
        return sum(e.active_requests for e in self._engines.values())

    @property
    def in_line(self) -> tuple[int, int]:
        """Requests answering or waiting for a slot, and the slots, over the loaded models."""
        held = sum(e.active_requests + e.waiting_requests for e in self._engines.values())
        return held, sum(e.max_concurrent for e in self._engines.values())

    # --- load and unload ------------------------------------------------------------------

    async def estimate(self, model_id: str, options: ModelLoadOptions | None = None) -> Footprint:
        """The memory a load would take and the fit verdict, for the load dialog."""
        model = await self._registry.get(model_id)
        footprint = await self._footprint(model, self.settings.with_slots(options or DEFAULT_LOAD))
        if footprint is None:
            raise ModelDoesNotFit("memory cannot be estimated: hardware detection is off")
        return footprint

    async def load(
        self,
        model_id: str,
        options: ModelLoadOptions | None = None,
        *,
        evict: bool | None = None,
        backend: str | None = None,
    ) -> LoadedModel:
        """Load ``model_id`` (or return it if it is loaded with the same options) and make it
        active; raises ModelNotFound, ModelDoesNotFit or EngineError with the reason.

        ``backend`` names another backend to serve it (``ollama``...); ``model_id`` is then the
        backend's own model name. By default the embedded engine loads an installed model."""
        options = self.settings.with_slots(options or DEFAULT_LOAD)
        if backend is not None:
            self._check_load(model_id, options, backend)
            return await self._load_remote(backend, model_id, options)
        async with self._load_lock:
            model = await self._registry.get(model_id)
            self._check_load(model.id, options)
            for engine in self._engines.values():
                if engine.model.id == model.id and engine.options == options:
                    self._active = engine.id
                    return engine.snapshot(engine.rss())
            self._bus.publish(ModelLoadStarted(model.id, describe_options(options)))
            try:
                footprint = await self._make_room(model, options, evict)
                engine = await self._start(model, options, footprint)
            except Exception as exc:
                self._bus.publish(ModelLoadFailed(model.id, str(exc)))
                raise
            return engine.snapshot(engine.rss())

    def _check_load(self, model_id: str, options: ModelLoadOptions, on: str = EMBEDDED) -> None:
        engines = self._engines.values()
        check_load(self._entitlements(), model_id, options, engines, self._run_dir, backend=on)

    async def _load_remote(
        self, name: str, model_id: str, options: ModelLoadOptions
    ) -> LoadedModel:
        if self._backends is None:
            raise NoModelLoaded("no other backends are configured")
        backend = self._backends(name)
        for engine in self._engines.values():
            same_backend = engine.instance is not None and engine.instance.backend is backend
            if same_backend and engine.model.id == model_id:
                self._active = engine.id
                return engine.snapshot()
        self._bus.publish(ModelLoadStarted(model_id, f"on {name}: {describe_options(options)}"))
        started = time.perf_counter()
        try:
            model = await describe_remote_model(backend, model_id)
            instance = await backend.load_model(model_id, options)
        except BackendError as exc:
            self._bus.publish(ModelLoadFailed(model_id, str(exc)))
            raise EngineError(str(exc)) from exc
        engine = LoadedEngine(
            id=uuid.uuid4().hex,
            model=model,
            options=options,
            supervisor=None,
            footprint=None,
            context_size=options.context_length or 0,
            max_concurrent=options.parallel or 1,
            instance=instance,
            backend=name,
            endpoint=backend.endpoint,
            status=LoadedModelStatus.READY,
        )
        self._engines[engine.id] = engine
        self._active = engine.id
        seconds = time.perf_counter() - started
        self._bus.publish(ModelLoaded(model_id, name, seconds, loaded_model_id=engine.id))
        return engine.snapshot()

    async def _start(
        self, model: InstalledModel, options: ModelLoadOptions, footprint: Footprint | None
    ) -> LoadedEngine:
        # Deferred: keeps ~60 ms of httpx imports off the app's start-up path.
        from lexitui.runtime.engine_client import engine_client

        loaded_id = uuid.uuid4().hex
        state = state_path(self._run_dir, f"runtime-{loaded_id}") if self._run_dir else None
        supervisor = EngineSupervisor(
            self.logs_dir,
            lambda reason: self._exited(loaded_id, reason),
            state_file=state,
            start_timeout=self._start_timeout,
        )
        engine = LoadedEngine(
            id=loaded_id,
            model=model,
            options=options,
            supervisor=supervisor,
            footprint=footprint,
            context_size=options.context_length or DEFAULT_CONTEXT,
            max_concurrent=options.parallel or 1,
        )
        self.snapshots_dir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        url = await supervisor.start(
            model.id,
            Path(model.path),
            options,
            slot_save_path=self.snapshots_dir,
            parallel=options.parallel or 1,
        )
        engine.endpoint = url
        if supervisor.kind is not None:
            engine.backend = supervisor.kind.label
        engine.client = engine_client(url, supervisor.auth_headers)
        engine.status = LoadedModelStatus.READY
        self._engines[loaded_id] = engine
        self._active = loaded_id
        await self._registry.touch(model.id)
        self._bus.publish(
            ModelLoaded(
                model_id=model.id,
                backend=f"{engine.backend} (pid {supervisor.pid})",
                load_seconds=time.perf_counter() - started,
                loaded_model_id=loaded_id,
            )
        )
        return engine

    async def _footprint(
        self, model: InstalledModel, options: ModelLoadOptions
    ) -> Footprint | None:
        if self._detect is None or options.rpc_servers:
            return None  # a split's weights are on its workers, planned by ``fit --rpc``
        return await estimate_footprint(Path(model.path), options, await self._detect())

    async def _make_room(
        self, model: InstalledModel, options: ModelLoadOptions, evict: bool | None
    ) -> Footprint | None:
        footprint = await self._footprint(model, options)
        allowed = self.settings.auto_evict if evict is None else evict
        while footprint is not None:
            problem = self._does_not_fit(footprint)
            if not problem:
                return footprint
            idle = sorted((e for e in self._engines.values() if e.idle), key=LoadedEngine.last_use)
            if not idle:
                raise ModelDoesNotFit(f"{model.id} {problem}, and no idle model can be unloaded")
            if not allowed:
                names = ", ".join(e.model.id for e in idle)
                raise ModelDoesNotFit(
                    f"{model.id} {problem}; unloading idle models ({names}) may make room",
                    evictable=tuple(e.id for e in idle),
                )
            await self.unload(idle[0].id, reason=f"unloaded to make room for {model.id}")
            footprint = await self._footprint(model, options)
        return footprint

    def _does_not_fit(self, footprint: Footprint) -> str:
        budget = self.settings.memory_budget_bytes
        held = sum(e.footprint.total_bytes for e in self._engines.values() if e.footprint)
        if budget is not None and held + footprint.total_bytes > budget:
            return (
                f"needs {format_bytes(footprint.total_bytes)} and loaded models hold "
                f"{format_bytes(held)} of the {format_bytes(budget)} budget"
            )
        return "" if footprint.fits_machine else footprint.verdict

    async def unload(self, loaded_id: str, *, reason: str = "unloaded by user") -> None:
        engine = self.engine(loaded_id)
        engine.status = LoadedModelStatus.UNLOADING
        self._forget(engine)
        if engine.supervisor is not None:
            await engine.supervisor.stop()
        if engine.instance is not None:
            try:
                await engine.instance.unload()
            except BackendError as exc:  # it is forgotten here either way; say why it lingers
                reason = f"{reason} (the backend said: {exc})"
        if engine.client is not None:
            await engine.client.aclose()
        self._bus.publish(ModelUnloaded(engine.model.id, reason, loaded_model_id=engine.id))

    async def unload_all(self, *, reason: str = "unloaded by user") -> None:
        for loaded_id in list(self._engines):
            with contextlib.suppress(NoModelLoaded):
                await self.unload(loaded_id, reason=reason)

    def _forget(self, engine: LoadedEngine) -> None:
        self._engines.pop(engine.id, None)
        if self._active == engine.id:
            self._active = next(reversed(self._engines), None) if self._engines else None

    def _exited(self, loaded_id: str, reason: str) -> None:
        """The engine died without being asked to: forget the model and say why."""
        engine = self._engines.get(loaded_id)
        if engine is None:
            return
        engine.status, engine.error = LoadedModelStatus.ERROR, reason
        self._forget(engine)
        if engine.client is not None:
            closing = asyncio.get_running_loop().create_task(engine.client.aclose())
            self._closing_clients.add(closing)
            closing.add_done_callback(self._closing_clients.discard)
        self._bus.publish(ModelUnloaded(engine.model.id, reason, loaded_model_id=engine.id))
        for observer in list(self.on_engine_exit):
            observer(engine, reason)

    async def close(self) -> None:
        await self.idle_unloader.close()
        await self.unload_all(reason="lexitui closed")
        # An engine that exited during the quit left its client closing: finish that before the
        # loop ends, or the close runs on a closed loop and fails.
        await asyncio.gather(*self._closing_clients, return_exceptions=True)

    # --- generation -----------------------------------------------------------------------

    async def generate(
        self, request: LocalGenerationRequest, *, model: str | None = None
    ) -> LocalGenerationResult:
        # Closed on return, so the request's slot is freed now rather than when collected.
        async with contextlib.aclosing(self.stream(request, model=model)) as chunks:
            async for chunk in chunks:
                if chunk.result is not None:
                    return chunk.result
        raise GenerationError("the engine ended the answer without a result")

    async def stream(
        self, request: LocalGenerationRequest, *, model: str | None = None
    ) -> AsyncGenerator[LocalGenerationChunk]:
        """Stream an answer from ``model`` (load id or model id; default the active model)."""
        request.validate()
        check_generation(self._entitlements(), request)
        # Closed with this stream, at once: the request line then frees the slot and notes a
        # stopped answer before the caller goes on (not whenever the generator is collected).
        async with contextlib.aclosing(self._line.stream(self.engine(model), request)) as chunks:
            async for chunk in chunks:
                yield chunk

    async def embed(
        self, request: LocalEmbeddingRequest, *, model: str | None = None
    ) -> LocalEmbeddingResult:
        self._entitlements().require(Action.EMBEDDINGS)
        return await self._line.embed(self.engine(model), request)

"""The local runtime as a language-model provider (the roadmap's ``LocalLlmProvider``).

A request naming a model gets that model: loaded on demand when it is installed but not loaded
(``LocalModelLoader``: one load however many requests wait for it), a 404 when it is neither.
A request naming none gets the active model; with nothing loaded, the first request loads
``[routing] local_model``, else the starter model. ``[runtime] load_on_demand = false`` turns
loading on demand off (the configured ``local_model`` still loads). A request's ``keep_alive``
parameter (Ollama's forms, see ``runtime.keep_alive``) sets how long its model stays loaded idle.
Runtime failures become ``ProviderError`` kinds the fallback rules understand: nothing loaded,
a load that failed or the engine gone is UNAVAILABLE (fall back), a failure after text was
streamed is STREAM_BROKEN (never retried, so no text is duplicated).
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass

from lexitui.domain.enums import LoadedModelStatus
from lexitui.domain.inference import InvalidRequest, LocalEmbeddingRequest
from lexitui.domain.language_model import (
    EmbeddingRequest,
    EmbeddingResponse,
    LanguageModel,
    LanguageModelChunk,
    LanguageModelRequest,
    LanguageModelResponse,
    TokenUsage,
)
from lexitui.domain.resources import InferenceResourceUsage
from lexitui.domain.slots import context_per_request
from lexitui.editions.refusals import EditionRefusal
from lexitui.routing.errors import FailureKind, ProviderError
from lexitui.routing.local_loading import KeepAlive, LocalModelLoader, requested_keep_alive
from lexitui.routing.local_models import InstalledCatalog
from lexitui.routing.local_requests import to_local_request
from lexitui.runtime.errors import GenerationError, NoModelLoaded, RuntimeErrorBase
from lexitui.runtime.loaded_engine import LoadedEngine
from lexitui.runtime.manager import InferenceManager

LOCAL_ID = "local"
# A busy model still takes requests: they wait in its line (the router caps how many).
SERVING = (LoadedModelStatus.READY, LoadedModelStatus.BUSY)


@dataclass(frozen=True)
class LocalProviderStatus:
    is_ready: bool
    active_model_id: str | None = None
    active_model_name: str | None = None
    active_backend: str | None = None
    resource_usage: InferenceResourceUsage | None = None
    loaded_models: tuple[str, ...] = ()
    error: str | None = None


class LocalLlmProvider:
    provider_id = LOCAL_ID
    provider_name = "Local LLM"
    is_local = True

    def __init__(
        self,
        runtime: InferenceManager,
        *,
        preferred_model: Callable[[], str | None] = lambda: None,
        resources: Callable[[], Awaitable[InferenceResourceUsage | None]] | None = None,
        catalog: InstalledCatalog | None = None,
    ) -> None:
        self._runtime = runtime
        self.catalog = catalog
        self._preferred = preferred_model
        self._resources = resources
        self._loader = LocalModelLoader(runtime, catalog, provider_id=LOCAL_ID)
        self._load_error: str | None = None
        self._last_exit: str | None = None  # why the last model went away, for the reason
        self._died = False  # the last model went away because its engine died

    def note_unloaded(self, model_id: str, reason: str) -> None:
        """Called on ModelUnloaded: when nothing is left loaded, routing says why."""
        self._last_exit = f"{model_id} {reason}" if reason else None
        self._died = False

    def note_engine_died(self) -> None:
        """Called after the ModelUnloaded of an engine that died unasked: requests naming no
        model then fall back with the reason, rather than load the starter in its place."""
        self._died = True

    # --- what the router reads (no I/O) ---------------------------------------------------

    @property
    def default_model(self) -> str | None:
        active = self._runtime.active_model
        if active is not None and active.status in SERVING:
            return active.model.id
        return self._default_name() if self._load_error is None else None

    def available_now(self) -> tuple[bool, str]:
        active = self._runtime.active_model
        if active is not None and active.status in SERVING:
            return True, f"{active.model.id} is loaded"
        crash = self._crash_notice()
        if crash:  # being reloaded (no second load is started meanwhile), or given up on
            return False, f"local model unavailable: {crash}"
        preferred = self._default_name()
        if preferred and self._load_error is None:
            return True, f"{preferred} loads on first use"
        if self._load_error:
            return False, f"the local model cannot load: {self._load_error}"
        if active is not None and active.error:
            return False, f"local model unavailable: {active.error}"
        if self._last_exit and not self._runtime.loaded_models():
            return False, f"local model unavailable: {self._last_exit}"
        return False, "local model unavailable: no model is loaded"

    def available_for(self, model: str | None) -> tuple[bool, str]:
        """``available_now`` for a request naming ``model``: an installed model that is not
        loaded loads on first use (unless an engine crash is being dealt with)."""
        named = self.model_named(model) if model else None
        if named is None or self._crash_notice():
            return self.available_now()
        if any(named == m.model.id for m in self._runtime.loaded_models()):
            return self.available_now()
        return True, f"{named} loads on first use"

    def context_length(self, model: str | None) -> int | None:
        """What one request may use: the engine's slots split its context evenly."""
        try:
            engine = self._runtime.engine(model)
        except NoModelLoaded:
            return None
        return context_per_request(engine.context_size, engine.max_concurrent) or None

    def known_models(self) -> tuple[str, ...]:
        loaded = [m.model.id for m in self._runtime.loaded_models()]
        preferred = self._default_name()
        installed = [m.id for m in self.catalog.models] if self.catalog and self._on_demand else []
        return tuple(dict.fromkeys([*loaded, *([preferred] if preferred else []), *installed]))

    def model_named(self, name: str) -> str | None:
        """The model id ``name`` means here (a loaded model by load or model id, or an installed
        one by id, file name or Ollama ``name:tag``), or None: the router pins and refuses by it.
        """
        for loaded in self._runtime.loaded_models():
            if name in (loaded.id, loaded.model.id):
                return loaded.model.id
        if name == self._default_name():
            return name
        found = self.catalog.find(name) if self.catalog and self._on_demand else None
        return found.id if found else None

    def has_loaded(self, name: str) -> bool:
        """Whether ``name`` is loaded now, not merely installed (hosts serving it go first)."""
        return any(name in (m.id, m.model.id) for m in self._runtime.loaded_models())

    def in_flight(self) -> int:
        """Requests answering or waiting in line for a slot."""
        return self._runtime.in_line[0]

    def slots(self) -> int:
        """The loaded models' engine slots: that many requests are answered at once."""
        return self._runtime.in_line[1]

    # --- the provider protocol ------------------------------------------------------------

    async def is_available(self) -> bool:
        return self.available_now()[0]

    async def get_models(self) -> list[LanguageModel]:
        """Every installed model (each loads on first use) and every loaded one, which says so."""
        loaded = {m.model.id: m for m in self._runtime.loaded_models()}
        if self.catalog is not None:
            await self.catalog.refresh()
        installed = self.catalog.models if self.catalog else []
        models = [
            LanguageModel(
                id=m.id,
                name=m.name,
                provider_id=LOCAL_ID,
                is_local=True,
                supports_embeddings=True,  # the engine is started with embeddings on
                size_bytes=m.size_bytes,
            )
            for m in installed
            if m.id not in loaded
        ]
        models.extend(
            LanguageModel(
                id=m.model.id,
                name=m.model.name,
                provider_id=LOCAL_ID,
                is_local=True,
                context_length=m.resources.context_size or None,
                supports_embeddings=bool(m.options.embedding),
                is_loaded=True,
                size_bytes=m.model.size_bytes or None,
            )
            for m in loaded.values()
        )
        return sorted(models, key=lambda m: m.id)

    async def generate(self, request: LanguageModelRequest) -> LanguageModelResponse:
        async for chunk in self.stream(request):
            if chunk.response is not None:
                return chunk.response
        raise ProviderError(LOCAL_ID, FailureKind.SERVER_ERROR, "the answer ended without a result")

    async def stream(self, request: LanguageModelRequest) -> AsyncGenerator[LanguageModelChunk]:
        try:
            local = to_local_request(request)
            keep_alive = requested_keep_alive(request.parameters.get("keep_alive"))
        except InvalidRequest as exc:
            raise ProviderError(LOCAL_ID, FailureKind.BAD_REQUEST, str(exc), status=400) from exc
        engine = await self._ensure_loaded(request.model)
        model = engine.id
        started = time.perf_counter()
        first: float | None = None
        index = 0
        # Closed before this stream ends: the engine's slot is free once the answer is given,
        # not whenever the collector gets to an abandoned generator (the next request waits).
        chunks = self._runtime.stream(local, model=model)
        try:
            async for chunk in chunks:
                if chunk.result is not None:
                    result = chunk.result
                    response = LanguageModelResponse(
                        text=result.text,
                        provider_id=LOCAL_ID,
                        model_id=result.model_id or (model or ""),
                        usage=TokenUsage(
                            result.usage.prompt_tokens, result.usage.completion_tokens
                        ),
                        finish_reason=result.finish_reason,
                        latency_ms=(time.perf_counter() - started) * 1000,
                        ttft_ms=result.metrics.ttft_ms or None,
                        tokens_per_second=result.metrics.tokens_per_second or None,
                        prompt_tokens_per_second=result.metrics.prompt_eval_tokens_per_second
                        or None,
                    )
                    yield LanguageModelChunk(
                        chunk.text,
                        index=index,
                        is_complete=True,
                        finish_reason=result.finish_reason,
                        response=response,
                    )
                    return
                if chunk.text:
                    first = first or time.perf_counter()
                    yield LanguageModelChunk(chunk.text, index=index)
                    index += 1
        except InvalidRequest as exc:
            raise ProviderError(LOCAL_ID, FailureKind.BAD_REQUEST, str(exc), status=400) from exc
        except NoModelLoaded as exc:
            raise ProviderError(LOCAL_ID, FailureKind.UNAVAILABLE, str(exc)) from exc
        except (GenerationError, RuntimeErrorBase) as exc:
            kind = _kind_after(str(exc), streamed=first is not None)
            raise ProviderError(LOCAL_ID, kind, self._crash_notice() or str(exc)) from exc
        finally:
            try:
                await chunks.aclose()
            finally:
                self._loader.done_with(engine, keep_alive)

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        engine = await self._ensure_loaded(request.model)
        try:
            result = await self._runtime.embed(
                LocalEmbeddingRequest(texts=request.texts), model=engine.id
            )
        except NoModelLoaded as exc:
            raise ProviderError(LOCAL_ID, FailureKind.UNAVAILABLE, str(exc)) from exc
        except RuntimeErrorBase as exc:
            raise ProviderError(LOCAL_ID, FailureKind.BAD_REQUEST, str(exc)) from exc
        finally:
            self._loader.done_with(engine, None)
        return EmbeddingResponse(
            embeddings=result.embeddings,
            provider_id=LOCAL_ID,
            model_id=engine.model.id,
            prompt_tokens=result.total_tokens,
        )

    async def aclose(self) -> None:
        """The runtime belongs to the services, which unload its models."""

    # --- local extensions -----------------------------------------------------------------

    async def get_status(self) -> LocalProviderStatus:
        ready, reason = self.available_now()
        active = self._runtime.active_model
        return LocalProviderStatus(
            is_ready=ready,
            active_model_id=active.model.id if active else None,
            active_model_name=active.model.name if active else None,
            active_backend=active.backend if active else None,
            resource_usage=await self._resources() if self._resources else None,
            loaded_models=tuple(m.model.id for m in self._runtime.loaded_models()),
            error=None if ready else reason,
        )

    async def get_active_model(self) -> LanguageModel | None:
        active = self._runtime.active_model
        if active is None:
            return None
        models = await self.get_models()
        return next((m for m in models if m.id == active.model.id), None)

    async def set_active_model(self, model_id: str) -> None:
        try:
            self._runtime.set_active(model_id)
        except NoModelLoaded:
            await self._runtime.load(model_id)

    async def preload(self, model: str, keep_alive: object = None) -> str:
        """Load ``model`` on demand without asking it anything (Ollama's chat or generate with
        nothing to say); its keep-alive (``keep_alive`` as a client sent it, else as it was, or
        ``[runtime] keep_alive`` for a model loaded here) counts from now. The model's id."""
        wanted = requested_keep_alive(keep_alive)
        engine = await self._loader.named(model)
        self._loader.done_with(engine, wanted or KeepAlive(engine.keep_alive_s))
        return engine.model.id

    async def _ensure_loaded(self, model: str | None) -> LoadedEngine:
        """The model to ask, held for this request (``done_with`` releases it): the named one
        (loaded on demand), else the active one, else the default, loaded on first use."""
        default = self._default_name()
        if model and model != default:
            return await self._loader.named(model)
        engine = self._loader.loaded(model) if model else self._serving_active()
        if engine is not None:
            engine.hold()
            return engine
        if not default or self._load_error is not None or self._crash_notice():
            _ok, reason = self.available_now()
            raise ProviderError(LOCAL_ID, FailureKind.UNAVAILABLE, reason)
        installed = self._loader.find(default)
        try:
            return await self._loader.load(installed.id if installed else default)
        except EditionRefusal:  # the user's edition: no other provider may quietly answer it
            raise
        except Exception as exc:  # any load failure: fall back, and say why from now on
            self._load_error = str(exc)
            raise ProviderError(LOCAL_ID, FailureKind.UNAVAILABLE, str(exc)) from exc

    @property
    def _on_demand(self) -> bool:
        return self._runtime.settings.load_on_demand

    def _serving_active(self) -> LoadedEngine | None:
        active = self._runtime.active_model
        if active is not None and active.status in SERVING:
            return self._runtime.engine(active.id)
        return None

    def _default_name(self) -> str | None:
        """``[routing] local_model``, else the starter model when loading on demand."""
        preferred = self._preferred()
        if preferred:
            return preferred
        return self._loader.starter() if self._on_demand and not self._died else None

    def _crash_notice(self) -> str | None:
        """What is done about a crashed engine (``EngineReloader``), while no model serves."""
        notice = self._runtime.crash_notice
        return notice if notice and not self._runtime.loaded_models() else None

    def forget_load_error(self) -> None:
        """Try the configured model again (after the user changed something)."""
        self._load_error = None


def _kind_after(message: str, *, streamed: bool) -> FailureKind:
    if streamed:
        return FailureKind.STREAM_BROKEN
    if "no answer within" in message or "stayed busy" in message:
        return FailureKind.TIMEOUT
    return FailureKind.UNAVAILABLE

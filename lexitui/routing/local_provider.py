"""The local runtime as a language-model provider (the roadmap's ``LocalLlmProvider``).

It answers with whatever model the inference manager has active (or the one a request names);
when nothing is loaded and ``[routing] local_model`` names an installed model, the first request
loads it. Runtime failures become ``ProviderError`` kinds the fallback rules understand: nothing
loaded or the engine gone is UNAVAILABLE (fall back), a failure after text was streamed is
STREAM_BROKEN (never retried, so no text is duplicated).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass

from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole, LoadedModelStatus
from lexitui.domain.inference import InvalidRequest, LocalEmbeddingRequest, LocalGenerationRequest
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
from lexitui.routing.errors import FailureKind, ProviderError
from lexitui.runtime.errors import GenerationError, NoModelLoaded, RuntimeErrorBase
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
    ) -> None:
        self._runtime = runtime
        self._preferred = preferred_model
        self._resources = resources
        self._load_error: str | None = None
        self._load_lock = asyncio.Lock()
        self._last_exit: str | None = None  # why the last model went away, for the reason

    def note_unloaded(self, model_id: str, reason: str) -> None:
        """Called on ModelUnloaded: when nothing is left loaded, routing says why."""
        self._last_exit = f"{model_id} {reason}" if reason else None

    # --- what the router reads (no I/O) ---------------------------------------------------

    @property
    def default_model(self) -> str | None:
        active = self._runtime.active_model
        if active is not None and active.status in SERVING:
            return active.model.id
        return self._preferred() if self._load_error is None else None

    def available_now(self) -> tuple[bool, str]:
        active = self._runtime.active_model
        if active is not None and active.status in SERVING:
            return True, f"{active.model.id} is loaded"
        crash = self._crash_notice()
        if crash:  # being reloaded (no second load is started meanwhile), or given up on
            return False, f"local model unavailable: {crash}"
        preferred = self._preferred()
        if preferred and self._load_error is None:
            return True, f"{preferred} loads on first use"
        if self._load_error:
            return False, f"the local model cannot load: {self._load_error}"
        if active is not None and active.error:
            return False, f"local model unavailable: {active.error}"
        if self._last_exit and not self._runtime.loaded_models():
            return False, f"local model unavailable: {self._last_exit}"
        return False, "local model unavailable: no model is loaded"

    def context_length(self, model: str | None) -> int | None:
        """What one request may use: the engine's slots split its context evenly."""
        try:
            engine = self._runtime.engine(model)
        except NoModelLoaded:
            return None
        return context_per_request(engine.context_size, engine.max_concurrent) or None

    def known_models(self) -> tuple[str, ...]:
        loaded = [m.model.id for m in self._runtime.loaded_models()]
        preferred = self._preferred()
        return tuple(dict.fromkeys([*loaded, *([preferred] if preferred else [])]))

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
        return [
            LanguageModel(
                id=m.model.id,
                name=m.model.name,
                provider_id=LOCAL_ID,
                is_local=True,
                context_length=m.resources.context_size or None,
                supports_embeddings=bool(m.options.embedding),
            )
            for m in self._runtime.loaded_models()
        ]

    async def generate(self, request: LanguageModelRequest) -> LanguageModelResponse:
        async for chunk in self.stream(request):
            if chunk.response is not None:
                return chunk.response
        raise ProviderError(LOCAL_ID, FailureKind.SERVER_ERROR, "the answer ended without a result")

    async def stream(self, request: LanguageModelRequest) -> AsyncGenerator[LanguageModelChunk]:
        try:
            local = to_local_request(request)
        except InvalidRequest as exc:
            raise ProviderError(LOCAL_ID, FailureKind.BAD_REQUEST, str(exc), status=400) from exc
        model = await self._ensure_loaded(request.model)
        started = time.perf_counter()
        first: float | None = None
        index = 0
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
            await chunks.aclose()  # now, not later in a task of the garbage collector's

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        model = await self._ensure_loaded(request.model)
        try:
            result = await self._runtime.embed(
                LocalEmbeddingRequest(texts=request.texts), model=model
            )
        except NoModelLoaded as exc:
            raise ProviderError(LOCAL_ID, FailureKind.UNAVAILABLE, str(exc)) from exc
        except RuntimeErrorBase as exc:
            raise ProviderError(LOCAL_ID, FailureKind.BAD_REQUEST, str(exc)) from exc
        return EmbeddingResponse(
            embeddings=result.embeddings,
            provider_id=LOCAL_ID,
            model_id=self._runtime.engine(model).model.id,
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

    async def _ensure_loaded(self, model: str | None) -> str | None:
        """The model to ask: the named one if loaded, else the active one; loads the
        configured local model when nothing is loaded."""
        if model is not None:
            try:
                return self._runtime.engine(model).id
            except NoModelLoaded:
                pass  # a cloud model name or one not loaded here: answer with the active model
        active = self._runtime.active_model
        if active is not None and active.status in SERVING:
            return active.id
        preferred = self._preferred()
        if not preferred or self._load_error is not None or self._crash_notice():
            _ok, reason = self.available_now()
            raise ProviderError(LOCAL_ID, FailureKind.UNAVAILABLE, reason)
        async with self._load_lock:
            try:
                return (await self._runtime.load(preferred)).id
            except Exception as exc:  # any load failure: fall back, and say why from now on
                self._load_error = str(exc)
                raise ProviderError(LOCAL_ID, FailureKind.UNAVAILABLE, str(exc)) from exc

    def _crash_notice(self) -> str | None:
        """What is done about a crashed engine (``EngineReloader``), while no model serves."""
        notice = self._runtime.crash_notice
        return notice if notice and not self._runtime.loaded_models() else None

    def forget_load_error(self) -> None:
        """Try the configured model again (after the user changed something)."""
        self._load_error = None


def to_local_request(request: LanguageModelRequest) -> LocalGenerationRequest:
    """What a provider request means for the local engine. Unset samplers take the OpenAI API's
    defaults (temperature 1, top-p 1, no penalties), not the chat screen's, so a client of the
    gateway gets from the local model what it would ask of any OpenAI-compatible server."""
    messages = tuple(LocalChatMessage(_role(m.role), m.content) for m in request.messages)
    params = request.parameters
    local = LocalGenerationRequest(
        prompt=request.prompt if not messages else None,
        messages=messages or None,
        max_tokens=request.max_tokens,
        stop_sequences=request.stop,
        seed=request.seed,
        temperature=1.0 if request.temperature is None else request.temperature,
        top_p=1.0 if request.top_p is None else request.top_p,
        repetition_penalty=1.0,
        frequency_penalty=_number(params.get("frequency_penalty"), 0.0),
        presence_penalty=_number(params.get("presence_penalty"), 0.0),
    )
    local.validate()
    return local


def _number(value: object, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(f"expected a number, not {value!r}")
    return float(value)


def _role(role: str) -> ChatRole:
    try:
        return ChatRole(role)
    except ValueError:
        raise InvalidRequest(f"unknown message role {role!r}") from None


def _kind_after(message: str, *, streamed: bool) -> FailureKind:
    if streamed:
        return FailureKind.STREAM_BROKEN
    if "no answer within" in message or "stayed busy" in message:
        return FailureKind.TIMEOUT
    return FailureKind.UNAVAILABLE

"""The contract every inference backend and every loaded model fulfils (``IInferenceBackend``,
``IModelInstance`` in the roadmap), so screens, the CLI and routing never care which server
answers.

A backend also *pushes* what it learns outside health checks (a request was refused, the managed
engine died) on ``health_pushes``; the manager turns those into status events at once.
"""

from __future__ import annotations

import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from typing import Any, ClassVar, Self

from reactivex import Observable
from reactivex.subject import BehaviorSubject, Subject

from lexitui.backends.errors import BackendError, NotSupported
from lexitui.domain.backends import (
    BackendHealth,
    BackendInfo,
    BackendModel,
    EmbeddingResult,
    GenerationRequest,
    GenerationResult,
    GenerationToken,
    ModelLoadOptions,
    ModelPullProgress,
    ModelPullResult,
)
from lexitui.domain.enums import BackendStatus, InferenceBackendType, ModelInstanceStatus
from lexitui.hardware.backend_support import ACCELERATION

PullProgress = Callable[[ModelPullProgress], None]


class InferenceBackend(ABC):
    type: ClassVar[InferenceBackendType]
    managed: ClassVar[bool] = False  # lexitui starts and stops it (the embedded engine)
    model_formats: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str) -> None:
        self.name = name
        self._pushes: Subject[BackendHealth] = Subject()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, endpoint={self.endpoint!r})"

    @property
    @abstractmethod
    def endpoint(self) -> str:
        """Base URL; empty while a managed backend is not started."""

    @property
    def health_pushes(self) -> Observable[BackendHealth]:
        return self._pushes

    def push(self, status: BackendStatus, message: str = "", latency: float | None = None) -> None:
        self._pushes.on_next(BackendHealth(status=status, latency_ms=latency, message=message))

    async def is_available(self) -> bool:
        return (await self.check_health()).up

    @abstractmethod
    async def check_health(self) -> BackendHealth:
        """Never raises for an unreachable backend: that is a status with a reason."""

    @abstractmethod
    async def version(self) -> str:
        """The server's own version string, or "unknown"."""

    async def get_info(self) -> BackendInfo:
        """What any backend can say about itself; one that knows more (slots) adds to it."""
        return BackendInfo(
            type=self.type,
            name=self.name,
            version=await self.version(),
            endpoint=self.endpoint,
            gpu_backends=tuple(sorted(ACCELERATION[self.type])),
            model_formats=self.model_formats,
            supports_streaming=True,
            supports_embeddings=True,
        )

    @abstractmethod
    async def list_models(self) -> list[BackendModel]: ...

    @abstractmethod
    async def load_model(
        self, model_id: str, options: ModelLoadOptions | None = None
    ) -> ModelInstance: ...

    async def pull_model(
        self, model_id: str, progress: PullProgress | None = None
    ) -> ModelPullResult:
        raise NotSupported(self.name, self.endpoint, "this backend cannot download models")

    async def delete_model(self, model_id: str) -> None:
        raise NotSupported(self.name, self.endpoint, "this backend cannot delete models")

    async def aclose(self) -> None:  # noqa: B027 - optional hook: most have nothing to release
        """Release connections (and, for a managed backend, the process)."""


def chat_messages(request: GenerationRequest) -> list[dict[str, str]]:
    """The request as chat messages: its own list, or the system prompt and the prompt."""
    if request.messages:
        return [m.as_json() for m in request.messages]
    messages = (
        [{"role": "system", "content": request.system_prompt}] if request.system_prompt else []
    )
    return [*messages, {"role": "user", "content": request.prompt}]


class ModelInstance(ABC):
    """A model a backend has loaded. Status goes READY -> GENERATING/EMBEDDING -> READY, ERROR
    after a failed request (the next request may still succeed), DISPOSED after ``unload``.

    ``generate_stream`` is an async generator: close it (``contextlib.aclosing`` or ``break``
    inside ``async with aclosing(...)``) or cancel its task, and the HTTP stream closes, which
    makes the server stop generating.
    """

    def __init__(
        self, backend: InferenceBackend, model_id: str, options: ModelLoadOptions | None
    ) -> None:
        self.instance_id = uuid.uuid4().hex
        self.backend = backend
        self.model_id = model_id
        self.load_options = options or ModelLoadOptions()
        self.last_error: str | None = None
        self._status: BehaviorSubject[ModelInstanceStatus] = BehaviorSubject(
            ModelInstanceStatus.READY
        )
        self._active = 0
        self._stale = ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model_id={self.model_id!r}, backend={self.backend.name!r})"

    @property
    def status(self) -> ModelInstanceStatus:
        return self._status.value

    @property
    def status_changes(self) -> Observable[ModelInstanceStatus]:
        """Current status first, then every change (a BehaviorSubject)."""
        return self._status

    def _set(self, status: ModelInstanceStatus) -> None:
        if self._status.value is not status and self.status is not ModelInstanceStatus.DISPOSED:
            self._status.on_next(status)

    def invalidate(self, reason: str) -> None:
        """The server behind this instance is gone (the engine crashed): refuse further use."""
        self._stale = reason
        self.last_error = reason
        self._set(ModelInstanceStatus.ERROR)

    def _check_usable(self) -> None:
        if self.status is ModelInstanceStatus.DISPOSED:
            raise BackendError(self.backend.name, self.backend.endpoint, "model was unloaded")
        if self._stale:
            raise BackendError(
                self.backend.name, self.backend.endpoint, f"{self._stale}; load the model again"
            )

    def _enter(self, status: ModelInstanceStatus) -> None:
        self._check_usable()
        self._active += 1
        self._set(status)

    def _leave(self, error: str | None = None) -> None:
        self._active -= 1
        if error is not None:
            self.last_error = error
            self._set(ModelInstanceStatus.ERROR)
        elif self._active == 0 and not self._stale:
            self._set(ModelInstanceStatus.READY)

    async def generate_stream(
        self, request: GenerationRequest
    ) -> AsyncGenerator[GenerationToken, None]:
        self._enter(ModelInstanceStatus.GENERATING)
        error: str | None = None
        try:
            async with aclosing(self._stream(request)) as tokens:
                async for token in tokens:
                    yield token
        except BackendError as exc:
            error = str(exc)
            raise
        finally:
            self._leave(error)

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        started = time.perf_counter()
        first = last = 0.0
        pieces: list[str] = []
        final = GenerationToken("", is_complete=True)
        async with aclosing(self.generate_stream(request)) as tokens:
            async for token in tokens:
                if token.is_complete:
                    final = token
                if token.text:
                    last = time.perf_counter()
                    first = first or last
                    pieces.append(token.text)
        completion = final.completion_tokens if final.completion_tokens is not None else len(pieces)
        span = last - first
        return GenerationResult(
            text="".join(pieces),
            prompt_tokens=final.prompt_tokens or 0,
            completion_tokens=completion,
            finish_reason=final.finish_reason,
            duration_s=time.perf_counter() - started,
            # n-1 intervals between n tokens, as llama.cpp counts its generation speed.
            tokens_per_second=(completion - 1) / span if completion > 1 and span > 0 else 0.0,
        )

    async def embed(self, texts: Sequence[str]) -> EmbeddingResult:
        self._enter(ModelInstanceStatus.EMBEDDING)
        error: str | None = None
        try:
            return await self._embed(list(texts))
        except BackendError as exc:
            error = str(exc)
            raise
        finally:
            self._leave(error)

    async def unload(self) -> None:
        if self.status is ModelInstanceStatus.DISPOSED:
            return
        self._set(ModelInstanceStatus.UNLOADING)
        try:
            if not self._stale:
                await self._unload()
        finally:
            self._status.on_next(ModelInstanceStatus.DISPOSED)
            self._status.on_completed()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.unload()

    @abstractmethod
    def _stream(self, request: GenerationRequest) -> AsyncGenerator[GenerationToken, None]:
        """The backend's token stream; the last item has ``is_complete=True``."""

    @abstractmethod
    async def _embed(self, texts: list[str]) -> EmbeddingResult: ...

    async def _unload(self) -> None:  # noqa: B027 - optional hook, see the docstring
        """Free the model on the server; nothing to do for servers without an unload call."""

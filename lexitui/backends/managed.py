"""The embedded llama.cpp engine as a backend lexitui starts and stops itself ("managed").

It runs ``EngineProcess`` (a child process on a free loopback port) and then talks to it like any
llama.cpp server. The child is watched through ``EngineProcess.wait()``, not by polling: the
moment it dies the backend pushes ERROR with the reason (signal or exit code, and llama.cpp's own
first error line) and the model instances it handed out refuse further use. ``restart()`` starts
it again with the same model and options.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from lexitui.backends.base import ModelInstance
from lexitui.backends.errors import BackendError, BackendUnavailable, clean_text
from lexitui.backends.llamacpp import LlamaCppBackend, LlamaCppProps, SlotState
from lexitui.backends.openai_instance import OpenAIModelInstance
from lexitui.backends.transport import DEFAULT_TIMEOUT
from lexitui.domain.backends import (
    BackendHealth,
    BackendInfo,
    BackendModel,
    BackendStartResult,
    ModelLoadOptions,
)
from lexitui.domain.enums import BackendStatus
from lexitui.domain.models import model_id_from_filename
from lexitui.engine.devices import available_engines
from lexitui.engine.errors import EngineError
from lexitui.engine.kinds import EngineKind
from lexitui.engine.process import START_TIMEOUT_S
from lexitui.engine.state import ManagedState, read_live_state, state_path
from lexitui.engine.supervisor import EngineSupervisor

ModelResolver = Callable[[str], Awaitable[Path]]
ModelCatalog = Callable[[], Awaitable[list[BackendModel]]]


def engine_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # only when asked: ~15 ms

    try:
        return f"xllamacpp {version('xllamacpp')}"
    except PackageNotFoundError:
        return "unknown"


class ManagedLlamaCpp(LlamaCppBackend):
    managed = True
    default_name = "llamacpp"

    def __init__(
        self,
        logs_dir: Path,
        *,
        name: str = "llamacpp",
        resolve_model: ModelResolver | None = None,
        catalog: ModelCatalog | None = None,
        state_dir: Path | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        start_timeout: float = START_TIMEOUT_S,
    ) -> None:
        super().__init__(name, "http://127.0.0.1:0", timeout=timeout)
        self.logs_dir = logs_dir
        self._resolve_model = resolve_model
        self._catalog = catalog
        self._state_file = state_path(state_dir, name) if state_dir else None
        self._engine = EngineSupervisor(
            logs_dir, self._exited, state_file=self._state_file, start_timeout=start_timeout
        )
        self._lock = asyncio.Lock()
        self._instances: weakref.WeakSet[ModelInstance] = weakref.WeakSet()
        self._external: ManagedState | None = None
        self.model_id: str | None = None
        self.model_path: Path | None = None
        self.options = ModelLoadOptions()
        self.crash_reason = ""
        # The model being loaded while a start is under way: a health check then says
        # "starting", not "stopped" (the engine only counts as running once it answers).
        self.starting: str | None = None

    # --- state ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._engine.running

    @property
    def pid(self) -> int | None:
        return self._engine.pid

    @property
    def endpoint(self) -> str:
        return self._url if self.running or self._external else ""

    @property
    def owner(self) -> str:
        """Who runs the engine, as other processes see it: "app" (default) or "cli"."""
        return self._engine.owner

    @owner.setter
    def owner(self, value: str) -> None:
        self._engine.owner = value

    @property
    def engine_kind(self) -> EngineKind | None:
        """What the latest start ran on (embedded or a llama-server)."""
        return self._engine.kind

    @property
    def log_path(self) -> Path | None:
        """The log of the latest start, kept after a crash: that is when it is wanted most."""
        return self._engine.log_path

    def _look_for_external(self) -> ManagedState | None:
        """An engine another lexitui process started (``lexitui backend start``)."""
        if self.running or self._state_file is None:
            return None
        state = read_live_state(self._state_file)
        if state and (self._external is None or self._external.endpoint != state.endpoint):
            self.api_key = state.api_key or None
            self._connect(state.endpoint)
        self._external = state
        return state

    def _require(self) -> None:
        if not (self.running or self._look_for_external()):
            raise BackendUnavailable(self.name, "", self.crash_reason or "not started")

    # --- lifecycle ------------------------------------------------------------------------

    async def start(
        self, model: str | Path, options: ModelLoadOptions | None = None
    ) -> BackendStartResult:
        """Start (or restart with) ``model``: an installed model id or a .gguf path."""
        async with self._lock:
            try:
                model_id, path = await self._resolve(model)
            except BackendError as exc:
                return BackendStartResult(success=False, error=exc.detail)
            return await self._start_locked(model_id, path, options or ModelLoadOptions())

    async def restart(self) -> BackendStartResult:
        async with self._lock:
            if self.model_id is None or self.model_path is None:
                return BackendStartResult(False, error="nothing to restart: start a model first")
            return await self._start_locked(self.model_id, self.model_path, self.options)

    async def stop(self) -> None:
        async with self._lock:
            self.crash_reason = ""
            await self._stop_locked("stopped by user", quiet=False)
            self.push(BackendStatus.STOPPED, "stopped")

    async def aclose(self) -> None:
        async with self._lock:
            await self._stop_locked("lexitui closed", quiet=False)
        await super().aclose()

    async def _start_locked(
        self, model_id: str, path: Path, options: ModelLoadOptions
    ) -> BackendStartResult:
        await self._stop_locked("restarting", quiet=True)
        self.starting = model_id
        self.push(BackendStatus.STARTING, f"loading {model_id}")
        try:
            url = await self._engine.start(model_id, path, options)
        except EngineError as exc:
            self.starting = None
            self.crash_reason = clean_text(str(exc))
            self.push(BackendStatus.ERROR, self.crash_reason)
            return BackendStartResult(False, error=self.crash_reason)
        except BaseException:
            self.starting = None
            raise
        self.model_id, self.model_path, self.options = model_id, path, options
        self.crash_reason = ""
        self._external = None
        try:
            await self.transport.aclose()
            self.api_key = self._engine.api_key
            self._connect(url)
            self._retired.clear()  # the old transport was just closed
        finally:
            self.starting = None  # checks go to the new transport from here on
        kind = self._engine.kind
        self.push(
            BackendStatus.RUNNING, f"serving {model_id}" + (f" on {kind.label}" if kind else "")
        )
        return BackendStartResult(True, endpoint=url, pid=self._engine.pid)

    async def _stop_locked(self, reason: str, *, quiet: bool) -> None:
        if not self._engine.running:
            await self._engine.stop()  # forgets a crashed engine's finished watcher
            return
        if not quiet:
            self.push(BackendStatus.STOPPING, reason)
        await self._engine.stop()
        self._forget(f"engine stopped ({reason})")

    def _exited(self, reason: str) -> None:
        """The engine died without being asked to: say why, and retire its instances."""
        self.crash_reason = reason
        self._forget(reason)
        self.push(BackendStatus.ERROR, reason)

    def _forget(self, reason: str) -> None:
        for instance in list(self._instances):
            instance.invalidate(reason)

    def _outcome(self, status: BackendStatus, message: str, latency: float | None) -> None:
        # After a crash the reason stays until a restart or stop; a refused request would
        # otherwise replace "killed by SIGKILL" with a vaguer "connection refused".
        if not self.crash_reason:
            super()._outcome(status, message, latency)

    async def _resolve(self, model: str | Path) -> tuple[str, Path]:
        candidate = Path(model)
        if isinstance(model, Path) or candidate.suffix.lower() == ".gguf" or "/" in str(model):
            if not candidate.is_file():
                raise BackendError(self.name, "", f"model file not found: {candidate}")
            return model_id_from_filename(candidate.name), candidate
        if self._resolve_model is None:
            raise BackendError(self.name, "", f"unknown model {model!r}: give a .gguf path")
        try:
            return str(model), await self._resolve_model(str(model))
        except (LookupError, ValueError, OSError) as exc:
            raise BackendError(self.name, "", str(exc)) from None

    # --- the backend contract -------------------------------------------------------------

    async def check_health(self) -> BackendHealth:
        if self.starting is not None:
            return BackendHealth(BackendStatus.STARTING, message=f"loading {self.starting}")
        if self.running:
            return self._with_engine(await super().check_health(), self._engine.kind)
        if self.crash_reason:
            return BackendHealth(BackendStatus.ERROR, message=self.crash_reason)
        external = self._look_for_external()
        if external is None:
            return BackendHealth(BackendStatus.STOPPED, message="not started")
        health = await super().check_health()
        owner = f"started by lexitui process {external.owner_pid} on {external.engine}"
        return replace(health, message=f"{owner}; {health.message}" if health.message else owner)

    @staticmethod
    def _with_engine(health: BackendHealth, kind: EngineKind | None) -> BackendHealth:
        """The health, saying which engine runs (the Backends area shows this line)."""
        if kind is None:
            return health
        words = f"on {kind.label}"
        return replace(health, message=f"{words}; {health.message}" if health.message else words)

    async def load_model(
        self, model_id: str, options: ModelLoadOptions | None = None
    ) -> OpenAIModelInstance:
        async with self._lock:
            same = self.running and model_id in (self.model_id, str(self.model_path))
            if not (same and (options is None or options == self.options)):
                resolved, path = await self._resolve(model_id)
                result = await self._start_locked(resolved, path, options or ModelLoadOptions())
                if not result.success:
                    raise BackendError(self.name, "", result.error or "engine did not start")
            assert self.model_id is not None
            instance = OpenAIModelInstance(self, self.model_id, self.options)
            self._instances.add(instance)
            return instance

    async def list_models(self) -> list[BackendModel]:
        served: list[BackendModel] = []
        if self.running or self._look_for_external():
            model_id = self.model_id or (self._external.model_id if self._external else None)
            served = [
                replace(m, id=model_id or m.id, loaded=True) for m in await super().list_models()
            ]
        others = await self._catalog() if self._catalog else []
        ids = {m.id for m in served}
        return served + [replace(m, loaded=False) for m in others if m.id not in ids]

    async def version(self) -> str:
        return engine_version()

    async def get_info(self) -> BackendInfo:
        # The GPU kinds the installed engines can drive, from their own device lists, not what
        # llama.cpp supports in general: the bundled wheel may be a CPU build.
        engines = await asyncio.to_thread(available_engines)
        gpus = sorted({b for e in engines for b in e.gpu_backends})
        if self.running or self._look_for_external():
            info = await super().get_info()
            return replace(info, version=engine_version(), gpu_backends=tuple(gpus))
        return BackendInfo(
            type=self.type,
            name=self.name,
            version=engine_version(),
            endpoint="",
            gpu_backends=tuple(gpus),
            model_formats=self.model_formats,
            supports_embeddings=self.options.embedding,
            max_concurrency=1,
        )

    def serves_embeddings(self) -> bool:
        return self.options.embedding

    async def props(self) -> LlamaCppProps:
        self._require()
        return await super().props()

    async def slots(self) -> list[SlotState]:
        self._require()
        return await super().slots()

    async def tokenize(self, text: str) -> list[int]:
        self._require()
        return await super().tokenize(text)

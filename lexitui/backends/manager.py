"""``BackendManager``: every backend lexitui knows, which one to use, and their status stream.

Built-ins (Ollama, the managed embedded llama.cpp engine, LM Studio, vLLM, LocalAI,
text-generation-webui) plus the user's custom endpoints from the config file. The preferred
backend and the custom list persist in the config's ``[backends]`` section. Choosing follows the
roadmap's hybrid rule: the user's preferred backend if it is up, else the system Ollama, else any
other running server, else *offer* the embedded engine (starting it is the user's decision).

Status: ``status_changes`` carries ``BackendStatusChanged`` (also on ``bus.backends``) for every
transition, from the health monitor's checks and from what backends push between checks.

The Runtime area runs its own embedded engines (one per loaded model). The managed engine's row
says so (``follow_runtime``): while one of those serves a model it is the llama.cpp engine that
is running here, so the row is not "stopped".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

from reactivex import Observable
from reactivex import operators as ops
from reactivex.abc import DisposableBase

from lexitui.backends.base import InferenceBackend
from lexitui.backends.errors import (
    BackendError,
    InvalidBackendConfig,
    UnknownBackend,
    clean_text,
)
from lexitui.backends.factory import (
    BUILTIN_NAMES,
    MANAGED_NAME,
    MOVABLE_NAMES,
    builtin_backends,
    make_backend,
)
from lexitui.backends.health import DEFAULT_INTERVAL, DEFAULT_MAX_BACKOFF, HealthMonitor
from lexitui.backends.managed import ManagedLlamaCpp, ModelCatalog, ModelResolver
from lexitui.backends.settings import (
    BackendSettings,
    CustomBackendSpec,
    check_env_name,
    check_name,
    check_type,
    check_url,
    load_backend_settings,
    save_backend_settings,
)
from lexitui.backends.status import StatusTracker
from lexitui.backends.transport import DEFAULT_TIMEOUT
from lexitui.config import Paths
from lexitui.domain.backends import (
    BackendHealth,
    BackendReport,
    BackendStartResult,
    ModelLoadOptions,
)
from lexitui.domain.enums import BackendStatus, InferenceBackendType
from lexitui.domain.inference import LoadedModel
from lexitui.editions.entitlements import OPEN, Entitlements
from lexitui.editions.tiers import Action
from lexitui.engine.state import run_dir
from lexitui.events import BackendStatusChanged, EventBus

LoadedModels = Callable[[], Sequence[LoadedModel]]


@dataclass(frozen=True)
class BackendChoice:
    """The hybrid rule's answer: a backend to use, or an offer to start the embedded engine."""

    backend: InferenceBackend | None
    reason: str
    offer_embedded: bool = False


class BackendManager:
    def __init__(
        self,
        paths: Paths,
        bus: EventBus | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        resolve_model: ModelResolver | None = None,
        catalog: ModelCatalog | None = None,
        interval: float = DEFAULT_INTERVAL,
        max_backoff: float = DEFAULT_MAX_BACKOFF,
        timeout: float = DEFAULT_TIMEOUT,
        entitlements: Callable[[], Entitlements] = lambda: OPEN,
        admit_start: Callable[[ModelLoadOptions], None] = lambda _options: None,
    ) -> None:
        """``entitlements``: adding a backend of one's own is Enterprise's; ``admit_start``
        raises when the managed engine may not load a model with these options (the edition's
        load checks, which live with the runtime's)."""
        self.paths = paths
        self._entitlements = entitlements
        self._admit_start = admit_start
        self.bus = bus or EventBus()
        self.tracker = StatusTracker(self.bus)
        self.settings = load_backend_settings(paths, movable=MOVABLE_NAMES, fixed={MANAGED_NAME})
        self._timeout = timeout
        self._backends: dict[str, InferenceBackend] = {}
        self._pushes: dict[str, DisposableBase] = {}
        for backend in builtin_backends(
            logs_dir=paths.logs_dir,
            state_dir=run_dir(paths),
            environ=environ,
            resolve_model=resolve_model,
            catalog=catalog,
            timeout=timeout,
            urls=self.settings.builtin_urls,
        ):
            self._register(backend)
        for spec in self.settings.custom:
            self._register(make_backend(spec, timeout))
        self.monitor = HealthMonitor(
            self.tracker, self.backends, bus=self.bus, interval=interval, max_backoff=max_backoff
        )
        self._runtime_models: LoadedModels | None = None

    def follow_runtime(self, loaded_models: LoadedModels) -> None:
        """Let the managed engine's report show the engines the Runtime area has loaded."""
        self._runtime_models = loaded_models

    # --- registry -------------------------------------------------------------------------

    def _register(self, backend: InferenceBackend) -> None:
        def observe(health: BackendHealth) -> None:
            self.tracker.observe(backend, health)

        self._backends[backend.name] = backend
        self._pushes[backend.name] = backend.health_pushes.subscribe(observe)

    def backends(self) -> list[InferenceBackend]:
        return list(self._backends.values())

    def get(self, name: str) -> InferenceBackend:
        try:
            return self._backends[name]
        except KeyError:
            known = ", ".join(self._backends)
            raise UnknownBackend(f"no backend named {name!r} (known: {known})") from None

    @property
    def managed(self) -> ManagedLlamaCpp:
        backend = self._backends[MANAGED_NAME]
        assert isinstance(backend, ManagedLlamaCpp)
        return backend

    def health(self, name: str) -> BackendHealth | None:
        """Last known health (from the monitor or a push); None before the first check."""
        return self.tracker.latest(name)

    @property
    def status_changes(self) -> Observable[BackendStatusChanged]:
        events = self.bus.backends.pipe(ops.filter(lambda e: isinstance(e, BackendStatusChanged)))
        return cast(Observable[BackendStatusChanged], events)

    # --- preferred and the hybrid rule ----------------------------------------------------

    @property
    def preferred_name(self) -> str | None:
        return self.settings.preferred

    def set_preferred(self, name: str | None) -> None:
        if name is not None:
            self.get(name)
        self._save(replace(self.settings, preferred=name))

    async def available(self) -> list[InferenceBackend]:
        healths = await self.monitor.check_all()
        return [b for b in self.backends() if healths[b.name].up]

    async def choose(self) -> BackendChoice:
        healths = await self.monitor.check_all()
        up = [b for b in self.backends() if healths[b.name].up]
        preferred = self.settings.preferred
        for backend in up:
            if backend.name == preferred:
                return BackendChoice(backend, "your preferred backend")
        ollama = self._backends.get("ollama")
        if ollama is not None and ollama in up:
            return BackendChoice(ollama, f"Ollama found at {ollama.endpoint}")
        if up:
            return BackendChoice(up[0], f"{up[0].name} is running")
        reason = healths["ollama"].message if "ollama" in healths else "not configured"
        return BackendChoice(
            None,
            f"Ollama: {reason}; the embedded llama.cpp engine can run a local model instead",
            offer_embedded=True,
        )

    async def preferred(self) -> InferenceBackend | None:
        return (await self.choose()).backend

    # --- custom backends ------------------------------------------------------------------

    def add_custom(
        self,
        name: str,
        url: str,
        type: str | InferenceBackendType = InferenceBackendType.CUSTOM,
        api_key_env: str | None = None,
    ) -> InferenceBackend:
        self._entitlements().require(Action.CUSTOM_BACKENDS)
        spec = CustomBackendSpec(
            name=check_name(name),
            url=check_url(url),
            type=check_type(type),
            api_key_env=check_env_name(api_key_env or None),
        )
        if name in BUILTIN_NAMES or name in self._backends:
            raise InvalidBackendConfig(f"a backend named {name!r} already exists")
        backend = make_backend(spec, self._timeout)
        self._save(replace(self.settings, custom=(*self.settings.custom, spec)))
        self._register(backend)
        self._follow()
        return backend

    async def remove_custom(self, name: str) -> None:
        if name in BUILTIN_NAMES:
            raise InvalidBackendConfig(f"{name!r} is built in and cannot be removed")
        if name not in {spec.name for spec in self.settings.custom}:
            raise UnknownBackend(f"no custom backend named {name!r}")
        custom = tuple(s for s in self.settings.custom if s.name != name)
        preferred = None if self.settings.preferred == name else self.settings.preferred
        self._save(replace(self.settings, preferred=preferred, custom=custom))
        backend = self._backends.pop(name, None)
        pushes = self._pushes.pop(name, None)
        if pushes is not None:
            pushes.dispose()
        self.tracker.forget(name)
        self._follow()
        if backend is not None:
            await backend.aclose()

    def _save(self, settings: BackendSettings) -> None:
        save_backend_settings(self.paths, settings)
        self.settings = settings

    def _follow(self) -> None:
        if self.monitor.running:
            self.monitor.sync()

    # --- the managed engine ---------------------------------------------------------------

    async def start_managed(
        self, model: str | Path, options: ModelLoadOptions | None = None
    ) -> BackendStartResult:
        self._admit_start(options or ModelLoadOptions())
        return await self.managed.start(model, options)

    async def restart_managed(self) -> BackendStartResult:
        return await self.managed.restart()

    async def stop_managed(self) -> None:
        await self.managed.stop()

    # --- reports and lifecycle ------------------------------------------------------------

    async def report(self, backend: InferenceBackend, *, check: bool = True) -> BackendReport:
        """Health, and when up its version and model count: one row of the backends table.

        ``check=False`` uses the last known health instead of probing again: what a screen
        wants when a status event has just said what changed."""
        latest = None if check else self.tracker.latest(backend.name)
        health = latest or await self.monitor.check(backend)
        version: str | None = None
        count: int | None = None
        if health.up:
            with contextlib.suppress(BackendError):
                version = clean_text((await backend.get_info()).version, 40)
            with contextlib.suppress(BackendError):
                count = len(await backend.list_models())
        report = BackendReport(
            name=backend.name,
            type=backend.type,
            endpoint=backend.endpoint,
            health=health,
            version=version,
            model_count=count,
            managed=backend.managed,
            preferred=backend.name == self.settings.preferred,
        )
        return self._with_runtime(report) if backend.managed else report

    def _with_runtime(self, report: BackendReport) -> BackendReport:
        """The managed row while it is down but the Runtime area's engines serve models."""
        status = report.health.status
        if self._runtime_models is None or status not in (
            BackendStatus.STOPPED,
            BackendStatus.UNKNOWN,
        ):
            return report
        engines = [m for m in self._runtime_models() if m.pid is not None and m.endpoint]
        if not engines:
            return report
        names = ", ".join(clean_text(m.model.id, 80) for m in engines)
        health = BackendHealth(
            BackendStatus.RUNNING,
            message=f"serving {names} (loaded in the Runtime area)",
        )
        return replace(
            report, endpoint=engines[0].endpoint, health=health, model_count=len(engines)
        )

    async def reports(self) -> list[BackendReport]:
        return list(await asyncio.gather(*(self.report(b) for b in self.backends())))

    def start(self) -> None:
        """Start the health monitor (call from a running loop: the TUI's on_mount)."""
        self.monitor.start()

    async def close(self) -> None:
        await self.monitor.stop()
        for subscription in self._pushes.values():
            subscription.dispose()
        for backend in self.backends():
            # One backend failing to close must not leave the others (or the engine) running.
            with contextlib.suppress(Exception):
                await backend.aclose()

    async def __aenter__(self) -> BackendManager:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

"""Builds every service in one place and runs their lifecycle.

The TUI, the headless CLI and the tests all go through ``Services``: whatever a screen can do, a
service method can do. ``start()`` opens the store, reconciles the starter model and starts the
event recorder; with ``background=True`` (the TUI) it also detects the hardware and starts the
live monitor and the resource alerts (``watch_resources()``). ``stop()`` reverses it and always
closes the store (an unclosed aiosqlite connection blocks interpreter exit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from lexitui.config import Paths, load_config
from lexitui.discovery.registry_settings import registry_specs
from lexitui.editions.tiers import Action
from lexitui.engine.state import run_dir
from lexitui.events import EventBus
from lexitui.hardware.detector import HardwareDetector
from lexitui.hardware.monitor import HardwareMonitor
from lexitui.hardware.settings import load_hardware_settings
from lexitui.runtime.manager import InferenceManager
from lexitui.runtime.settings import RuntimeSettings
from lexitui.storage.starter import register_starter
from lexitui.storage.usage import UsageTracker
from lexitui.store import Store, StoreError
from lexitui.store.changes import StoreChangeWatcher
from lexitui.store.event_log import EventRecorder
from lexitui.store.hardware_history import HardwareHistory
from lexitui.store.installed_models import ModelRegistry
from lexitui.store.model_rows import StorageRows

if TYPE_CHECKING:
    from lexitui.backends.base import InferenceBackend
    from lexitui.backends.manager import BackendManager
    from lexitui.discovery.service import DiscoveryService
    from lexitui.downloads.manager import DownloadManager
    from lexitui.editions.entitlements import Entitlements
    from lexitui.fleet.fleet import Fleet
    from lexitui.routing.service import RoutingService
    from lexitui.runtime.context import ContextManager
    from lexitui.runtime.conversations import ConversationService
    from lexitui.runtime.profiler import PerformanceProfiler
    from lexitui.runtime.resource_sampling import ResourceSampling
    from lexitui.runtime.resources import InferenceResourceMonitor
    from lexitui.storage.manager import StorageManager
    from lexitui.store.download_queue import DownloadQueue


# The parts built on first use (``cached_property``): the dashboard never pays for them.
LazyPart = Literal[
    "backends",
    "storage",
    "context",
    "conversations",
    "resources",
    "profiler",
    "routing",
    "fleet",
    "downloads",
    "download_manager",
    "discovery",
]


DETECTION_FIRST_S = 5.0


@dataclass
class Services:
    paths: Paths
    config: dict[str, Any]
    bus: EventBus
    store: Store
    registry: ModelRegistry
    runtime: InferenceManager
    recorder: EventRecorder
    hardware: HardwareDetector
    monitor: HardwareMonitor
    hardware_history: HardwareHistory
    usage: UsageTracker
    store_changes: StoreChangeWatcher
    started: bool = field(default=False, init=False)
    _detection: asyncio.Task[object] | None = field(default=None, init=False)
    _storage_start: asyncio.Task[object] | None = field(default=None, init=False)
    _downloads_start: asyncio.Task[object] | None = field(default=None, init=False)
    _backends_start: asyncio.Task[object] | None = field(default=None, init=False)
    _resource_sampling: ResourceSampling | None = field(default=None, init=False)

    @classmethod
    def build(
        cls, paths: Paths | None = None, hardware: HardwareDetector | None = None
    ) -> Services:
        """``hardware`` lets tests pass a detector fed with recorded readings."""
        paths = paths or Paths.from_env()
        config = load_config(paths)
        registry_specs(config)  # checked before anything starts: the registries are built late
        bus = EventBus()
        store = Store(paths.database)
        registry = ModelRegistry(store)
        settings = load_hardware_settings(paths)
        if hardware is None:
            hardware = HardwareDetector(
                bus=bus, settings=settings, model_storage_path=paths.models_dir
            )
        else:
            hardware.bus = bus
        history = HardwareHistory(store)

        def backend(name: str) -> InferenceBackend:
            return built.backends.get(name)

        built = cls(
            paths=paths,
            config=config,
            bus=bus,
            store=store,
            registry=registry,
            runtime=InferenceManager(
                registry,
                bus,
                logs_dir=paths.logs_dir,
                snapshots_dir=paths.data_dir / "snapshots",
                run_dir=run_dir(paths),
                detect=hardware.detect,
                settings=RuntimeSettings.from_config(config),
                backends=backend,
                entitlements=lambda: built.entitlements,
            ),
            recorder=EventRecorder(bus, store),
            hardware=hardware,
            monitor=HardwareMonitor(hardware, bus=bus, sink=history.record),
            hardware_history=history,
            usage=UsageTracker(StorageRows(store), bus),
            store_changes=StoreChangeWatcher(store, bus),
        )
        return built

    def built(self, part: LazyPart) -> bool:
        """Whether a part built on first use exists yet: stopping, and a screen that only shows
        what is there, must not build one just to ask it."""
        return part in self.__dict__

    @cached_property
    def backends(self) -> BackendManager:
        """Built on first use (the TUI's background start, a command that lists backends): the
        backend kinds cost ~0.1 s of imports that the first frame does without."""
        from lexitui.services.backends import build_backend_manager

        return build_backend_manager(self)

    @cached_property
    def entitlements(self) -> Entitlements:
        """What this user may do: read once, on the first check (a license installed while
        lexitui runs counts from its next start)."""
        from lexitui.editions.service import LicenseService

        return LicenseService(self.paths).entitlements()

    @cached_property
    def storage(self) -> StorageManager:
        """Built on first use: it imports the GGUF parser (~0.2 s) the dashboard never needs."""
        from lexitui.services.storage import build_storage_manager

        return build_storage_manager(self, usage=self.usage)

    @cached_property
    def context(self) -> ContextManager:
        """The loaded models' context: status, clear, truncate, snapshots."""
        from lexitui.runtime.context import ContextManager
        from lexitui.store.snapshots import SnapshotRows

        return ContextManager(
            self.runtime, SnapshotRows(self.store), entitlements=lambda: self.entitlements
        )

    @cached_property
    def conversations(self) -> ConversationService:
        """Saved chats, for the Runtime screen and ``lexitui run`` alike."""
        from lexitui.runtime.conversations import ConversationService
        from lexitui.store.conversations import ConversationRows

        return ConversationService(ConversationRows(self.store))

    @cached_property
    def resources(self) -> InferenceResourceMonitor:
        """What the machine and the loaded models use; its sampler runs while a model is loaded
        once ``watch_resources()`` was called, while ``current()`` and ``check_resources()`` work
        any time."""
        from lexitui.runtime.resources import InferenceResourceMonitor

        return InferenceResourceMonitor(self.runtime, self.bus, self.hardware)

    @cached_property
    def profiler(self) -> PerformanceProfiler:
        """Per-model speed figures and the benchmark; started by ``start()`` so every
        generation is recorded."""
        from lexitui.runtime.profiler import PerformanceProfiler

        return PerformanceProfiler(
            self.store, self.bus, self.runtime, entitlements=lambda: self.entitlements
        )

    @cached_property
    def routing(self) -> RoutingService:
        """Built on first use: providers, router, fallback, costs; the price tables cost ~0.3 s
        of imports the dashboard never needs until routing is used."""
        from lexitui.services.routing import build_routing

        return build_routing(self)

    @cached_property
    def fleet(self) -> Fleet:
        """The configured hosts, probed in the background once the routing service starts
        (each host is one of its providers; it stops them when it closes)."""
        from lexitui.fleet.fleet import Fleet
        from lexitui.fleet.host_settings import host_specs

        return Fleet(host_specs(self.config))

    @cached_property
    def downloads(self) -> DownloadQueue:
        """Built on first use, like ``discovery``: the records cost ~20 ms of start-up."""
        from lexitui.store.download_queue import DownloadQueue

        return DownloadQueue(self.store, self.bus)

    @cached_property
    def download_manager(self) -> DownloadManager:
        """Built on first use: resumable, verified downloads over the same queue rows."""
        from lexitui.services.downloads import build_download_manager

        return build_download_manager(self)

    @cached_property
    def discovery(self) -> DiscoveryService:
        """Built on first use: the Hub client costs ~0.2 s of imports the dashboard never needs."""
        from lexitui.services.discovery import discovery_of

        return discovery_of(self)

    async def start(self, *, background: bool = False) -> None:
        """Open the store and start the recorders; a failure part-way (a damaged, locked or
        read-only database, a full disk) undoes what had started before it is raised, so the
        caller has nothing left to stop and the process can exit at once."""
        try:
            await self._start_core()
        except BaseException:
            await self._undo_start()
            raise
        self.started = True
        if background:
            self.start_background()

    async def _start_core(self) -> None:
        try:
            self.paths.ensure()
        except OSError as exc:
            where = exc.filename or self.paths.data_dir
            raise StoreError(f"cannot create {where}: {exc.strerror or exc}") from exc
        await self.store.open()
        # Where watching for changes starts: a write after this and before the watcher runs
        # (the TUI starts it once the first screen has painted) is still told.
        await self.store_changes.check()
        self.recorder.start()
        self.usage.start()
        self.profiler.start()
        await register_starter(self.registry)

    async def _undo_start(self) -> None:
        # Each step is safe on a part that never started; none may keep the store from closing.
        steps = [self.recorder.stop, self.usage.stop, self.store.close]
        if self.built("backends"):
            steps.insert(2, self.backends.close)
        if self.built("profiler"):
            steps.insert(0, self.profiler.stop)
        for step in steps:
            with contextlib.suppress(Exception):
                await step()

    def start_background(self) -> None:
        """Detect the hardware, then start the monitor (it compares samples against detection).

        The TUI calls this once the first screen has painted, so probes never delay it.
        """
        if self._detection is None and self.started:
            loop = asyncio.get_running_loop()
            self._detection = loop.create_task(self._detect_then_monitor())
            self._backends_start = loop.create_task(self._start_backends())
            self._storage_start = loop.create_task(self._start_storage())
            self._downloads_start = loop.create_task(self._resume_downloads())
            self.watch_resources()
            # Rows written by any process (``lexitui serve`` too) reach the screens as events.
            self.store_changes.start()

    def watch_resources(self) -> None:
        """Sample the resources while a model is loaded, so threshold alerts reach the bus (and
        the log); ``stop()`` ends it. The TUI and ``lexitui serve`` call it, one-shot commands
        do not. A second call does nothing."""
        if self._resource_sampling is None and self.started:
            from lexitui.runtime.resource_sampling import ResourceSampling

            self._resource_sampling = ResourceSampling(self.resources, self.runtime, self.bus)
            self._resource_sampling.start()

    async def _detect_then_monitor(self) -> object:
        capabilities = await self.hardware.detect()
        await self.monitor.start()
        return capabilities

    async def after_detection(self) -> None:
        """Hardware detection (the dashboard's first data) goes first: the storage, download and
        routing modules' imports (~0.5 s) would hold the loop (or the interpreter lock) it
        finishes on. Bounded: a slow probe delays them by ``DETECTION_FIRST_S`` at most."""
        if self._detection is not None:
            await asyncio.wait({self._detection}, timeout=DETECTION_FIRST_S)

    async def _start_backends(self) -> object:
        """The backends' health checks start once the hardware is known (they import the HTTP
        client and probe every endpoint, which would slow detection down)."""
        await self.after_detection()
        self.backends.start()
        return None

    async def _start_storage(self) -> object:
        """Finish an interrupted store move, reconcile rows and files, index the shared library.
        A failure is logged, not raised: the app runs without the library then."""
        await self.after_detection()
        try:
            await self.storage.start()
            if not self.entitlements.allows(Action.SHARED_LIBRARY):
                return await self.storage.reconcile()  # lexitui's own store alone (S5)
            return await self.storage.sync_library()
        except Exception as exc:  # the Models screen shows storage errors when it is opened
            logging.getLogger(__name__).warning("storage start-up: %s", exc)
            return exc

    async def _resume_downloads(self) -> object:
        """Downloads left queued or running by a quit, a crash or kill -9 carry on."""
        await self.after_detection()
        try:
            await self.download_manager.start()
        except Exception as exc:  # the Downloads screen shows each download's own error
            logging.getLogger(__name__).warning("resuming downloads: %s", exc)
            return exc
        return None

    async def stop(self) -> None:
        if not self.started:
            if self.built("backends"):
                await self.backends.close()
            await self.store.close()
            return
        self.started = False
        try:
            await self.store_changes.stop()
            tasks = (self._detection, self._backends_start, self._storage_start)
            for task in (*tasks, self._downloads_start):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            await self.monitor.stop()
            if self._resource_sampling is not None:
                await self._resource_sampling.stop()
                self._resource_sampling = None
            if self.built("resources"):
                await self.resources.stop()
            if self.built("routing"):
                await self.routing.close()
            # After the runtime: its final ModelUnloaded closes the model's usage time.
            if self.built("download_manager"):
                await self.download_manager.close()
            await self.runtime.close()
            await self.usage.stop()
            if self.built("profiler"):
                await self.profiler.stop()
            if self.built("storage"):
                await self.storage.stop()
            if self.built("backends"):
                await self.backends.close()
            if self.built("discovery"):
                await self.discovery.close()
            await self.recorder.stop()
        finally:
            await self.store.close()

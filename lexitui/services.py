"""Builds every service in one place and runs their lifecycle.

The TUI, the headless CLI and the tests all go through ``Services``: whatever a screen can do, a
service method can do. ``start()`` opens the store, reconciles the starter model and starts the
event recorder; with ``background=True`` (the TUI) it also detects the hardware and starts the
live monitor. ``stop()`` reverses it and always closes the store (an unclosed aiosqlite
connection blocks interpreter exit).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lexitui.backends.manager import BackendManager
from lexitui.config import Paths, load_config
from lexitui.events import EventBus
from lexitui.hardware.detector import HardwareDetector
from lexitui.hardware.monitor import HardwareMonitor
from lexitui.hardware.settings import load_hardware_settings
from lexitui.runtime.service import RuntimeService
from lexitui.storage.registry import ModelRegistry
from lexitui.storage.starter import register_starter
from lexitui.store import Store
from lexitui.store.event_log import EventRecorder
from lexitui.store.hardware_history import HardwareHistory

if TYPE_CHECKING:
    from lexitui.discovery.service import DiscoveryService
    from lexitui.downloads.queue import DownloadQueue


@dataclass
class Services:
    paths: Paths
    config: dict[str, Any]
    bus: EventBus
    store: Store
    registry: ModelRegistry
    runtime: RuntimeService
    recorder: EventRecorder
    hardware: HardwareDetector
    monitor: HardwareMonitor
    hardware_history: HardwareHistory
    backends: BackendManager
    started: bool = field(default=False, init=False)
    _detection: asyncio.Task[object] | None = field(default=None, init=False)

    @classmethod
    def build(
        cls, paths: Paths | None = None, hardware: HardwareDetector | None = None
    ) -> Services:
        """``hardware`` lets tests pass a detector fed with recorded readings."""
        paths = paths or Paths.from_env()
        config = load_config(paths)
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

        async def resolve(model_id: str) -> Path:
            return Path((await registry.get(model_id)).path)

        backends = BackendManager(paths, bus, resolve_model=resolve)
        return cls(
            paths=paths,
            config=config,
            bus=bus,
            store=store,
            registry=registry,
            runtime=RuntimeService(registry, bus, backends.managed),
            recorder=EventRecorder(bus, store),
            hardware=hardware,
            monitor=HardwareMonitor(hardware, bus=bus, sink=history.record),
            hardware_history=history,
            backends=backends,
        )

    @cached_property
    def downloads(self) -> DownloadQueue:
        """Built on first use, like ``discovery``: the records cost ~20 ms of start-up."""
        from lexitui.downloads.queue import DownloadQueue

        return DownloadQueue(self.store, self.bus)

    @cached_property
    def discovery(self) -> DiscoveryService:
        """Built on first use: the Hub client costs ~0.2 s of imports the dashboard never needs."""
        from lexitui.discovery.wiring import build_discovery

        return build_discovery(
            self.config, self.store, self.bus, self.backends, self.hardware, self.downloads
        )

    async def start(self, *, background: bool = False) -> None:
        self.paths.ensure()
        await self.store.open()
        self.recorder.start()
        await register_starter(self.registry)
        self.started = True
        if background:
            self.start_background()

    def start_background(self) -> None:
        """Detect the hardware, then start the monitor (it compares samples against detection).

        The TUI calls this once the first screen has painted, so probes never delay it.
        """
        if self._detection is None and self.started:
            self._detection = asyncio.get_running_loop().create_task(self._detect_then_monitor())
            self.backends.start()

    async def _detect_then_monitor(self) -> object:
        capabilities = await self.hardware.detect()
        await self.monitor.start()
        return capabilities

    async def stop(self) -> None:
        if not self.started:
            await self.backends.close()
            await self.store.close()
            return
        self.started = False
        try:
            if self._detection is not None:
                self._detection.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._detection
            await self.monitor.stop()
            await self.runtime.close()
            await self.backends.close()
            if "discovery" in self.__dict__:
                await self.discovery.close()
            await self.recorder.stop()
        finally:
            await self.store.close()

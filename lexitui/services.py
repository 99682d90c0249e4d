"""Builds every service in one place and runs their lifecycle.

The TUI, the headless CLI and the tests all go through ``Services``: whatever a screen can do, a
service method can do. ``start()`` opens the store, reconciles the starter model and starts the
event recorder; ``stop()`` reverses it and always closes the store (an unclosed aiosqlite
connection blocks interpreter exit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lexitui.config import Paths, load_config
from lexitui.events import EventBus
from lexitui.runtime.service import RuntimeService
from lexitui.storage.registry import ModelRegistry
from lexitui.storage.starter import register_starter
from lexitui.store import Store
from lexitui.store.event_log import EventRecorder


@dataclass
class Services:
    paths: Paths
    config: dict[str, Any]
    bus: EventBus
    store: Store
    registry: ModelRegistry
    runtime: RuntimeService
    recorder: EventRecorder
    started: bool = field(default=False, init=False)

    @classmethod
    def build(cls, paths: Paths | None = None) -> Services:
        paths = paths or Paths.from_env()
        config = load_config(paths)
        bus = EventBus()
        store = Store(paths.database)
        registry = ModelRegistry(store)
        return cls(
            paths=paths,
            config=config,
            bus=bus,
            store=store,
            registry=registry,
            runtime=RuntimeService(registry, bus, paths.logs_dir),
            recorder=EventRecorder(bus, store),
        )

    async def start(self) -> None:
        self.paths.ensure()
        await self.store.open()
        self.recorder.start()
        await register_starter(self.registry)
        self.started = True

    async def stop(self) -> None:
        if not self.started:
            await self.store.close()
            return
        self.started = False
        try:
            await self.runtime.close()
            await self.recorder.stop()
        finally:
            await self.store.close()

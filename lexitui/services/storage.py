"""How the app's storage manager is put together from the services it needs."""

from __future__ import annotations

from typing import Protocol

from lexitui.config import Paths
from lexitui.domain.hardware import HardwareCapabilities
from lexitui.editions.entitlements import Entitlements
from lexitui.events import EventBus
from lexitui.hardware.detector import HardwareDetector
from lexitui.storage.manager import StorageManager
from lexitui.storage.usage import UsageTracker
from lexitui.store import Store
from lexitui.store.installed_models import ModelRegistry


class HasStorageParts(Protocol):
    """The parts of ``Services`` the manager needs (a protocol: no import cycle)."""

    @property
    def paths(self) -> Paths: ...
    @property
    def store(self) -> Store: ...
    @property
    def registry(self) -> ModelRegistry: ...
    @property
    def bus(self) -> EventBus: ...
    @property
    def hardware(self) -> HardwareDetector: ...
    @property
    def entitlements(self) -> Entitlements: ...


def build_storage_manager(
    services: HasStorageParts, usage: UsageTracker | None = None
) -> StorageManager:
    detector = services.hardware

    async def hardware() -> HardwareCapabilities | None:
        # The fit check behind "incompatible with this hardware" needs a detection; the TUI
        # has one already, a CLI command detects once.
        return detector.last or await detector.detect()

    return StorageManager(
        services.paths.data_dir,
        services.store,
        services.registry,
        services.bus,
        hardware=hardware,
        usage=usage,
        entitlements=lambda: services.entitlements,
    )

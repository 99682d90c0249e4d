"""How the app's discovery service is put together: the Hub first, then the Ollama library, and
the user's ``[registries.NAME]`` searched beside the Hub."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from lexitui.backends.manager import BackendManager
from lexitui.config import hub_token as config_hub_token
from lexitui.config import ollama_site_url
from lexitui.discovery.custom_registry import build_custom_registry
from lexitui.discovery.hf_settings import resolve_token
from lexitui.discovery.huggingface import HuggingFaceRegistry
from lexitui.discovery.measured import MeasuredSpeeds
from lexitui.discovery.ollama_library import OllamaLibraryRegistry, local_ollama_names
from lexitui.discovery.registry_settings import registry_specs
from lexitui.discovery.search_quota import SearchQuota
from lexitui.discovery.service import DiscoveryService
from lexitui.domain.discovery import ModelVariant, RemoteModel
from lexitui.domain.downloads import ModelDownload
from lexitui.domain.hardware import HardwareCapabilities
from lexitui.editions.entitlements import OPEN, Entitlements
from lexitui.events import EventBus
from lexitui.hardware.detector import HardwareDetector
from lexitui.store import Store
from lexitui.store.edition_counters import EditionCounters
from lexitui.store.search_cache import RegistryCache

if TYPE_CHECKING:
    from lexitui.services.container import Services


def build_discovery(
    config: dict[str, Any],
    store: Store,
    bus: EventBus,
    backends: BackendManager,
    hardware: HardwareDetector,
    start_download: Callable[[RemoteModel, ModelVariant], Awaitable[ModelDownload]],
    measured: MeasuredSpeeds | None = None,
    entitlements: Callable[[], Entitlements] = lambda: OPEN,
) -> DiscoveryService:
    cache = RegistryCache(store)
    custom = [build_custom_registry(spec, store) for spec in registry_specs(config)]
    hub_config_token = config_hub_token(config)
    ollama = next((b for b in backends.backends() if b.name == "ollama"), None)
    library = OllamaLibraryRegistry(
        cache,
        site_url=ollama_site_url(config),
        known_names=local_ollama_names(ollama.list_models) if ollama else None,
    )

    async def capabilities() -> HardwareCapabilities:
        return hardware.last or await hardware.detect()

    def hub_token() -> str | None:
        token = resolve_token(hub_config_token)
        return token.value if token else None

    return DiscoveryService(
        registries=[HuggingFaceRegistry(cache, token=hub_config_token), library],
        hardware=capabilities,
        start_download=start_download,
        bus=bus,
        hub_token=hub_token,
        measured=measured,
        quota=SearchQuota(entitlements, EditionCounters(store)),
        custom=custom,
        entitlements=entitlements,
    )


def discovery_of(services: Services) -> DiscoveryService:
    """The app's discovery service: downloads go to its download manager, measured speeds come
    from its profiler, the edition from its entitlements."""

    async def start_download(model: RemoteModel, variant: ModelVariant) -> ModelDownload:
        return await services.download_manager.start_download(model, variant)

    return build_discovery(
        services.config,
        services.store,
        services.bus,
        services.backends,
        services.hardware,
        start_download,
        measured=lambda: services.profiler.measured_speeds(),
        entitlements=lambda: services.entitlements,
    )

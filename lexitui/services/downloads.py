"""How the app's download manager is put together from the services it needs."""

from __future__ import annotations

from typing import Any, Protocol

from lexitui.config import Paths, hub_token
from lexitui.discovery.hf_settings import resolve_endpoint, resolve_token
from lexitui.discovery.registry_settings import registry_specs
from lexitui.downloads.layout import StoreLayout
from lexitui.downloads.manager import DownloadManager
from lexitui.downloads.quota import DownloadQuota
from lexitui.downloads.resolve import Auth, origin_of
from lexitui.downloads.settings import ManagerSettings
from lexitui.editions.entitlements import Entitlements
from lexitui.events import EventBus
from lexitui.store.download_queue import DownloadQueue
from lexitui.store.installed_models import ModelRegistry


class HasDownloadParts(Protocol):
    """The parts of ``Services`` the manager needs (a protocol: no import cycle)."""

    @property
    def paths(self) -> Paths: ...
    @property
    def config(self) -> dict[str, Any]: ...
    @property
    def bus(self) -> EventBus: ...
    @property
    def registry(self) -> ModelRegistry: ...
    @property
    def downloads(self) -> DownloadQueue: ...
    @property
    def entitlements(self) -> Entitlements: ...


def hub_config_token(config: dict[str, Any]) -> str | None:
    return hub_token(config)


def settings_from_config(config: dict[str, Any]) -> ManagerSettings:
    """``[downloads]`` in the config: ``max_concurrent`` and ``limit_rate`` (bytes/s)."""
    section = config.get("downloads", {})
    section = section if isinstance(section, dict) else {}
    concurrent = section.get("max_concurrent")
    rate = section.get("limit_rate")
    return ManagerSettings(
        max_concurrent_downloads=concurrent
        if isinstance(concurrent, int) and concurrent > 0
        else 2,
        rate_limit_bytes_per_s=rate if isinstance(rate, int) and rate > 0 else None,
    )


def build_download_manager(
    services: HasDownloadParts, settings: ManagerSettings | None = None
) -> DownloadManager:
    config_token = hub_config_token(services.config)

    def token() -> str | None:  # read per request: HF_TOKEN set later still wins (K4)
        found = resolve_token(config_token)
        return found.value if found else None

    def entitlements() -> Entitlements:  # read at each download: built on first use
        return services.entitlements

    return DownloadManager(
        StoreLayout(services.paths.models_dir),
        services.downloads,
        services.registry,
        services.bus,
        hub_endpoint=lambda: resolve_endpoint(None),
        hub_token=token,
        settings=settings or settings_from_config(services.config),
        registry_auth=tuple(
            Auth(origin_of(spec.url), spec.token)
            for spec in registry_specs(services.config)
            if spec.token_env is not None
        ),
        quota=DownloadQuota(entitlements),
    )

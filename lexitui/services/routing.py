"""Builds the routing service from the config and the app's other services."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lexitui.events import Event, ModelUnloaded
from lexitui.routing.budgets import BudgetGuard
from lexitui.routing.cloud_factory import build_cloud_provider
from lexitui.routing.electricity import EnergyMeter, NvmlEnergySource
from lexitui.routing.keys import KeyStore
from lexitui.routing.local_models import InstalledCatalog
from lexitui.routing.local_provider import LOCAL_ID, LocalLlmProvider
from lexitui.routing.optimizer import CostPerformanceOptimizer
from lexitui.routing.prices import PriceBook
from lexitui.routing.recording import RequestRecorder
from lexitui.routing.service import RoutingService
from lexitui.routing.settings import RoutingSettings
from lexitui.runtime.errors import NoModelLoaded
from lexitui.store.routed_requests import RoutedRequestRows

if TYPE_CHECKING:
    from lexitui.services import Services


def build_routing(services: Services) -> RoutingService:
    settings = RoutingSettings.from_config(services.config)
    keys = KeyStore(services.paths.config_dir)
    runtime = services.runtime
    local = LocalLlmProvider(
        runtime,
        preferred_model=lambda: settings.routing.preferred_local_model,
        resources=lambda: services.resources.current(),
        catalog=InstalledCatalog(services.registry.list),
    )

    def on_inference(event: Event) -> None:
        if isinstance(event, ModelUnloaded):
            local.note_unloaded(event.model_id, event.reason)

    unloads = services.bus.inference.subscribe(on_inference)

    def on_engine_exit(_engine: object, _reason: str) -> None:
        local.note_engine_died()

    runtime.on_engine_exit.append(on_engine_exit)
    # Each configured host is a provider too: the router spreads a model's requests over them.
    fleet = services.fleet
    cloud = [*(build_cloud_provider(p, keys) for p in settings.providers), *fleet.providers]
    by_id = {p.id: p for p in settings.providers}
    first = settings.providers[0] if settings.providers else None
    prices = PriceBook(
        settings.costs,
        default_reference=(first.price_provider, first.model) if first and first.model else None,
    )
    rows = RoutedRequestRows(services.store)
    holder: list[RoutingService] = []
    budgets = BudgetGuard(rows, services.bus, lambda: holder[0].router.config)
    nvml = services.hardware.nvml
    meter = EnergyMeter(
        lambda: settings.costs, NvmlEnergySource(nvml) if nvml is not None else None
    )

    def price_provider_of(provider_id: str) -> str | None:
        provider = by_id.get(provider_id)
        return provider.price_provider if provider else None

    def quality_of(provider_id: str) -> float:
        if provider_id == LOCAL_ID:
            return settings.local_quality
        provider = by_id.get(provider_id)
        return provider.quality if provider else 0.5

    def local_speed(model: str) -> float | None:
        """The loaded model's average decode speed so far, as the engine measured it."""
        try:
            engine = runtime.engine(model or None)
        except NoModelLoaded:
            return None
        return engine.tps_sum / engine.requests if engine.requests else None

    optimizer = CostPerformanceOptimizer(
        lambda: holder[0].providers(),
        prices,
        rows,
        price_provider_of,
        quality_of,
        local_speed,
        profiles=lambda: services.profiler.all_stats(),
        entitlements=lambda: services.entitlements,
    )
    recorder = RequestRecorder(
        rows,
        prices,
        budgets,
        meter,
        price_provider_of=price_provider_of,
        latency_of=optimizer.latency_of,
        local_cost_of=lambda model, answer: optimizer.cost_of(local, model, 0, answer),
        record_prompts=settings.record_prompts,
    )
    recorder.recorded.subscribe(optimizer.observe)
    service = RoutingService(
        settings,
        local,
        cloud,
        services.bus,
        recorder,
        optimizer=optimizer,
        keys=keys,
        entitlements=lambda: services.entitlements,
    )
    service.on_close.append(unloads.dispose)
    service.on_start.append(fleet.start)
    service.on_close.append(fleet.stop)
    service.on_close.append(lambda: runtime.on_engine_exit.remove(on_engine_exit))
    holder.append(service)
    return service

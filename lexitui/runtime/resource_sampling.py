"""Runs the inference resource monitor's sampler while a model is loaded, so its threshold
alerts (``ResourceAlert``) fire in the app and in ``lexitui serve``.

Sampling reads RAM, CPU and NVML every second; with no model loaded there is nothing of ours to
watch, so the sampler then sleeps: it starts on ``ModelLoaded`` and pauses once the last model
is unloaded (or its engine died). Each alert is also logged, which is what a gateway that nobody
watches leaves behind.
"""

from __future__ import annotations

import logging

from reactivex.abc import DisposableBase

from lexitui.events import Event, EventBus, ModelLoaded, ModelUnloaded, ResourceAlert
from lexitui.runtime.manager import InferenceManager
from lexitui.runtime.resources import InferenceResourceMonitor

log = logging.getLogger(__name__)


class ResourceSampling:
    def __init__(
        self, monitor: InferenceResourceMonitor, runtime: InferenceManager, bus: EventBus
    ) -> None:
        self._monitor = monitor
        self._runtime = runtime
        self._bus = bus
        self._subscription: DisposableBase | None = None

    @property
    def running(self) -> bool:
        """Whether the sampler is taking samples now."""
        return self._monitor.running

    def start(self) -> None:
        """Follow the loads from now on (on the running loop); a second call does nothing."""
        if self._subscription is not None:
            return
        self._subscription = self._bus.inference.subscribe(self._on_event)
        if self._runtime.loaded_models():
            self._monitor.start()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, ModelLoaded):
            self._monitor.start()
        elif isinstance(event, ModelUnloaded) and not self._runtime.loaded_models():
            self._monitor.pause()
        elif isinstance(event, ResourceAlert):
            log.warning("resource alert: %s", event.message)

    async def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.dispose()
            self._subscription = None
        await self._monitor.stop()

"""The inference resource monitor (roadmap ``IInferenceResourceMonitor``): what the machine and the
loaded models use right now, a rolling history, whether a load would fit, and threshold alerts.

Readings come from the same seams as the Hardware area: RAM through ``HardwareDetector.memory()``
and GPUs through ``HardwareDetector.gpus()`` (NVML, or recorded readings in tests), so a machine
without a GPU reports none rather than zeros that look like one. The engines' memory is their
processes' resident size as the manager reports it; their VRAM is what NVML lists for their pids.
Blocking reads (psutil, NVML) run in worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

import psutil
from reactivex import Observable
from reactivex.abc import DisposableBase
from reactivex.subject import Subject

from lexitui.domain.hardware import GpuInfo
from lexitui.domain.inference import LoadedModel, LoadedModelStatus
from lexitui.domain.resources import (
    GpuResourceUsage,
    InferenceResourceUsage,
    ResourceAlertConfig,
    ResourceCheck,
    ResourceIssue,
    ResourceRequirements,
    ResourceType,
)
from lexitui.domain.units import format_bytes
from lexitui.events import Event, EventBus, LocalGenerationCompleted, ResourceAlert
from lexitui.hardware.detector import HardwareDetector
from lexitui.runtime.manager import InferenceManager
from lexitui.runtime.resource_alerts import ResourceAlertWatcher

log = logging.getLogger(__name__)
# A finished generation's speed stays "current" this long, so a gauge does not drop to zero
# between the turns of a conversation.
RECENT_GENERATION_S = 5.0
# A hard cap on kept samples whatever the retention (a short interval and a long retention
# would otherwise keep a sample per tick for hours).
MAX_SAMPLES = 3600


def _now() -> datetime:
    return datetime.now(UTC)


class CpuMeter:
    """The machine's busy share since the previous reading, with its own baseline: psutil's
    ``cpu_percent(interval=None)`` keeps one shared baseline, which the hardware monitor's
    sampler also resets."""

    def __init__(self) -> None:
        self._last = self._busy_and_total()

    @staticmethod
    def _busy_and_total() -> tuple[float, float]:
        t = psutil.cpu_times()
        # On Linux guest time is already counted in user/nice time.
        total = sum(t) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)
        idle = t.idle + getattr(t, "iowait", 0.0)
        return total - idle, total

    def percent(self) -> float:
        busy, total = self._busy_and_total()
        last_busy, last_total = self._last
        self._last = (busy, total)
        if total <= last_total:
            return 0.0
        return max(0.0, min(100.0, 100.0 * (busy - last_busy) / (total - last_total)))


def gpu_usage(gpu: GpuInfo, engine_pids: set[int]) -> GpuResourceUsage:
    # NVML lists host pids; inside a container they differ from ours, and the engines' share
    # then reads 0 rather than a guess.
    held = sum(p.used_memory_bytes or 0 for p in gpu.processes if p.pid in engine_pids)
    return GpuResourceUsage(
        gpu_id=gpu.id,
        gpu_name=gpu.name,
        vram_total_bytes=gpu.vram_bytes,
        vram_used_bytes=gpu.used_vram_bytes or 0,
        vram_models_bytes=held,
        gpu_utilization_percent=gpu.utilization_percent or 0.0,
        temperature_celsius=gpu.temperature_c,
        power_watts=gpu.power_watts,
    )


class InferenceResourceMonitor:
    """``current()`` on demand; ``start()`` samples every ``interval_s`` into ``updates`` and
    ``history``; ``pause()`` ends sampling until the next ``start()``; ``stop()`` ends sampling
    and listening."""

    def __init__(
        self,
        manager: InferenceManager,
        bus: EventBus,
        hardware: HardwareDetector,
        *,
        interval_s: float = 1.0,
        retention: timedelta = timedelta(minutes=30),
        alerts: ResourceAlertConfig | None = None,
        max_samples: int = MAX_SAMPLES,
        cpu_percent: Callable[[], float] | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._manager = manager
        self._bus = bus
        self._memory: Callable[[], tuple[int, int]] = hardware.memory
        self._gpus: Callable[[], Awaitable[Sequence[GpuInfo]]] = hardware.gpus
        self.interval_s = interval_s
        self.retention = retention
        self._cpu_percent = cpu_percent or CpuMeter().percent
        self._process = psutil.Process()
        self._process.cpu_percent(interval=None)  # the baseline for the first reading
        self._cores = psutil.cpu_count() or 1
        self._clock = clock
        self._alerts = ResourceAlertWatcher(alerts)
        self._history: deque[InferenceResourceUsage] = deque(maxlen=max_samples)
        self._updates: Subject[InferenceResourceUsage] = Subject()
        self._last_generation: tuple[float, float] | None = None  # (monotonic time, tokens/s)
        self._subscription: DisposableBase | None = None
        self._task: asyncio.Task[None] | None = None
        self._paused: set[asyncio.Task[None]] = set()  # cancelled by pause(), awaited by stop()
        self._listen()

    # --- reading --------------------------------------------------------------------------

    @property
    def updates(self) -> Observable[InferenceResourceUsage]:
        """Every sample the running sampler takes; add ``observe_on`` in the UI."""
        return self._updates

    @property
    def alerts(self) -> ResourceAlertConfig:
        return self._alerts.config

    def set_alerts(self, config: ResourceAlertConfig) -> None:
        self._alerts.set_config(config)

    def standing_alerts(self) -> list[ResourceAlert]:
        """The alerts the sampler raised whose reading has not recovered yet, oldest first."""
        return self._alerts.standing()

    def history(self, period: timedelta) -> list[InferenceResourceUsage]:
        """The samples of the last ``period``, oldest first (at most ``retention`` of them)."""
        cutoff = self._clock() - period
        return [u for u in self._history if u.timestamp >= cutoff]

    async def current(self) -> InferenceResourceUsage:
        models = self._manager.loaded_models()
        pids = {m.pid for m in models if m.pid is not None}
        (total, available, process_rss, cpu, process_cpu), gpus = await asyncio.gather(
            asyncio.to_thread(self._read_system), self._gpus()
        )
        return InferenceResourceUsage(
            timestamp=self._clock(),
            system_ram_bytes=total,
            system_ram_used_bytes=max(0, total - available),
            process_ram_bytes=process_rss,
            models_ram_bytes=sum(m.resources.ram_bytes for m in models),
            gpu_usage=tuple(gpu_usage(g, pids) for g in gpus),
            cpu_usage_percent=cpu,
            process_cpu_percent=process_cpu,
            active_models=len(models),
            active_requests=self._manager.active_requests,
            current_tokens_per_second=self._current_tokens_per_second(),
        )

    def _read_system(self) -> tuple[int, int, int, float, float]:
        total, available = self._memory()
        try:
            rss = int(self._process.memory_info().rss)
            # psutil counts one busy core as 100%; divided by the cores it is a share of the
            # machine, comparable with the system figure beside it. Over very short intervals
            # the kernel's 10 ms tick makes the raw figure overshoot: clamp it.
            process_cpu = min(100.0, self._process.cpu_percent(interval=None) / self._cores)
        except psutil.Error:
            rss, process_cpu = 0, 0.0
        return total, available, rss, self._cpu_percent(), process_cpu

    def _current_tokens_per_second(self) -> float:
        """The decode speed of the latest finished generation, while a request is running or
        for ``RECENT_GENERATION_S`` after one finished; 0 when the models are idle. The engine
        reports speed only when an answer ends, so a running request shows the previous one's."""
        last = self._last_generation
        if last is None:
            return 0.0
        finished_at, tokens_per_second = last
        recent = time.monotonic() - finished_at <= RECENT_GENERATION_S
        return tokens_per_second if recent or self._manager.active_requests > 0 else 0.0

    def _listen(self) -> None:
        if self._subscription is None:
            self._subscription = self._bus.inference.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, LocalGenerationCompleted) and event.completion_tokens > 0:
            self._last_generation = (time.monotonic(), event.tokens_per_second)

    # --- fit check ------------------------------------------------------------------------

    async def check_resources(self, requirements: ResourceRequirements) -> ResourceCheck:
        """Whether memory free right now holds ``requirements``; each shortfall is an issue
        with the bytes needed and available, and one line says what would help."""
        _total, available = await asyncio.to_thread(self._memory)
        issues: list[ResourceIssue] = []
        if requirements.ram_bytes > available:
            issues.append(
                ResourceIssue(
                    ResourceType.RAM,
                    f"needs {format_bytes(requirements.ram_bytes)} of RAM; "
                    f"{format_bytes(available)} is free",
                    requirements.ram_bytes,
                    available,
                )
            )
        if requirements.vram_bytes:
            issue = self._vram_issue(requirements.vram_bytes, await self._gpus())
            if issue is not None:
                issues.append(issue)
        if not issues:
            return ResourceCheck(is_sufficient=True)
        return ResourceCheck(False, tuple(issues), self._suggestion(issues, requirements))

    @staticmethod
    def _vram_issue(required: int, gpus: Sequence[GpuInfo]) -> ResourceIssue | None:
        if not gpus:
            return ResourceIssue(ResourceType.VRAM, "no GPU found to hold layers", required, 0)
        free = [g.available_vram_bytes for g in gpus if g.available_vram_bytes is not None]
        if not free:
            return None  # the driver hides free memory (some vGPUs): no grounds to refuse
        best = max(free)
        if required <= best:
            return None
        message = (
            f"needs {format_bytes(required)} of VRAM; "
            f"the roomiest GPU has {format_bytes(best)} free"
        )
        return ResourceIssue(ResourceType.VRAM, message, required, best)

    def _suggestion(self, issues: list[ResourceIssue], requirements: ResourceRequirements) -> str:
        idle = [m for m in self._manager.loaded_models() if _is_idle(m)]
        names = ", ".join(m.model.id for m in idle)
        kinds = {i.resource for i in issues}
        parts: list[str] = []
        if idle:
            parts.append(f"unload idle models ({names})")
        if ResourceType.VRAM in kinds:
            layers = requirements.gpu_layers
            parts.append(
                f"use fewer than {layers} GPU layers" if layers else "put fewer layers on the GPU"
            )
        if ResourceType.RAM in kinds and not idle:
            parts.append("pick a smaller quantization or a shorter context")
        text = "; or ".join(parts)
        return text[:1].upper() + text[1:] + "."

    # --- sampling -------------------------------------------------------------------------

    async def sample_once(self) -> InferenceResourceUsage:
        """Take one sample: keep it in the history, raise alerts it crosses, emit it."""
        usage = await self.current()
        self._history.append(usage)
        cutoff = usage.timestamp - self.retention
        while self._history and self._history[0].timestamp < cutoff:
            self._history.popleft()
        for alert in self._alerts.check(usage):
            self._bus.publish(alert)
        self._updates.on_next(usage)
        return usage

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start sampling on the running loop (a second call does nothing)."""
        self._listen()
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="inference-resources"
            )

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            try:
                await self.sample_once()
            except Exception:  # one failed reading must not end the sampler
                log.exception("resource sample failed")
            # Fixed rate; after a stall, skip the missed ticks instead of bursting.
            next_at = max(next_at + self.interval_s, loop.time())
            await asyncio.sleep(next_at - loop.time())

    def pause(self) -> None:
        """Stop sampling now (from a plain callback too); listening goes on. Raised alerts are
        forgotten: with no samples nothing can be said to stand, and the next ``start()`` alerts
        afresh on a reading still over its threshold."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            self._paused.add(task)
            task.add_done_callback(self._paused.discard)
        self._alerts.reset()

    async def stop(self) -> None:
        task, self._task = self._task, None
        for ending in [*self._paused, *([task] if task is not None else [])]:
            ending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ending
        if self._subscription is not None:
            self._subscription.dispose()
            self._subscription = None


def _is_idle(model: LoadedModel) -> bool:
    return model.active_requests == 0 and model.status is LoadedModelStatus.READY

"""``HardwareMonitor``: samples CPU, RAM and GPUs on an interval and reports what changed.

Screens draw sparklines from the rolling ``history``; the event bus only hears about *changes*
(a GPU appears or vanishes, memory crosses a threshold, a GPU runs hot), so a steady machine is
silent. Thresholds are edge-triggered with hysteresis: "recovered" needs a margin past the alert
line, so a value hovering at the line does not flood the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import psutil
from reactivex import Observable
from reactivex.subject import Subject

from lexitui.domain.samples import GpuSample, HardwareSample, gpu_metric
from lexitui.domain.units import GIB
from lexitui.events import EventBus, HardwareChanged
from lexitui.hardware.detector import HardwareDetector
from lexitui.hardware.settings import HardwareSettings

log = logging.getLogger(__name__)
RECOVERY_MARGIN_PERCENT = 5.0
TEMP_REARM_C = 5.0


SampleSink = Callable[[HardwareSample], Awaitable[None]]


class HardwareMonitor:
    """Background sampler: ``await start()`` on mount, ``await stop()`` on unmount.

    ``sample_once()`` is public so tests (and a "refresh now" key) can sample on demand. The
    optional ``sink`` receives every sample (the store persists them); a failing sink is logged
    and never stops sampling.
    """

    def __init__(
        self,
        detector: HardwareDetector,
        *,
        bus: EventBus | None = None,
        settings: HardwareSettings | None = None,
        sink: SampleSink | None = None,
        cpu_percent: Callable[[], float] | None = None,
    ) -> None:
        self._detector = detector
        self._bus = bus or detector.bus
        self.settings = settings or detector.settings
        self._sink = sink
        # interval=None: the CPU share since the previous call, no sleeping inside the sampler.
        self._cpu_percent = cpu_percent or (lambda: float(psutil.cpu_percent(interval=None)))
        self._history: dict[str, deque[float]] = {}
        self._samples: Subject[HardwareSample] = Subject()
        self._known: dict[str, str] | None = None  # id -> name of the GPUs seen last
        self._low: set[str] = set()  # "ram" and GPU ids currently under their threshold
        self._hot: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self.latest: HardwareSample | None = None

    # --- reading --------------------------------------------------------------------------

    @property
    def samples(self) -> Observable[HardwareSample]:
        """Every sample as it is taken (for live gauges); add ``observe_on`` in the UI."""
        return self._samples

    def history(self, metric: str) -> tuple[float, ...]:
        """The rolling values of one metric, oldest first ("cpu_percent", "ram_used_percent",
        or ``gpu_metric(id, "utilization_percent"|"vram_used_percent"|"temperature_c"|
        "power_watts")``)."""
        return tuple(self._history.get(metric, ()))

    def metrics(self) -> list[str]:
        return sorted(self._history)

    # --- sampling -------------------------------------------------------------------------

    def _take(self) -> HardwareSample:
        gpus = self._detector.sample_gpus()
        total, available = self._detector.memory()
        return HardwareSample(
            datetime.now(UTC),
            self._cpu_percent(),
            total,
            available,
            tuple(GpuSample.of(g) for g in gpus),
        )

    async def sample_once(self) -> HardwareSample:
        """Take one sample, publish what changed since the last, feed history and the sink."""
        sample = await asyncio.to_thread(self._take)
        self.latest = sample
        self._record(sample)
        for change in self._changes(sample):
            self._bus.publish(change)
        self._samples.on_next(sample)
        if self._sink is not None:
            try:
                await self._sink(sample)
            except Exception:  # a slow or broken store must not stop the sampler
                log.exception("hardware sample sink failed")
        return sample

    def _push(self, metric: str, value: float | None) -> None:
        if value is None:
            return
        series = self._history.get(metric)
        if series is None:
            series = self._history[metric] = deque(maxlen=self.settings.history_size)
        series.append(value)

    def _record(self, sample: HardwareSample) -> None:
        self._push("cpu_percent", sample.cpu_percent)
        self._push("ram_used_percent", 100.0 - sample.ram_available_percent)
        for g in sample.gpus:
            free = g.vram_free_percent
            self._push(gpu_metric(g.id, "utilization_percent"), g.utilization_percent)
            self._push(gpu_metric(g.id, "vram_used_percent"), None if free is None else 100 - free)
            self._push(gpu_metric(g.id, "temperature_c"), g.temperature_c)
            self._push(gpu_metric(g.id, "power_watts"), g.power_watts)

    def _changes(self, sample: HardwareSample) -> list[HardwareChanged]:
        out: list[HardwareChanged] = []
        current = {g.id: g.name for g in sample.gpus}
        if self._known is None:
            last = self._detector.last  # detection already told the user what is there
            self._known = {g.id: g.name for g in last.gpus} if last else dict(current)
        for gpu_id in current.keys() - self._known.keys():
            out.append(HardwareChanged("gpu_added", gpu_id, f"GPU added: {current[gpu_id]}"))
        for gpu_id in self._known.keys() - current.keys():
            out.append(
                HardwareChanged("gpu_removed", gpu_id, f"GPU removed: {self._known[gpu_id]}")
            )
            self._forget(gpu_id)
        self._known = current
        ram_pct = sample.ram_available_percent if sample.ram_total_bytes else None
        ram_msg = f"{sample.ram_available_bytes / GIB:.1f} GiB of RAM available"
        out += self._threshold("ram", "ram", ram_pct, self.settings.ram_low_percent, ram_msg)
        for g in sample.gpus:
            free = g.vram_free_percent
            msg = f"{g.name}: {free or 0:.0f}% of VRAM free"
            out += self._threshold(g.id, "vram", free, self.settings.vram_low_percent, msg)
            out += self._temperature(g)
        return out

    def _threshold(
        self, key: str, kind: str, free_pct: float | None, low: float, message: str
    ) -> list[HardwareChanged]:
        if free_pct is None:
            return []
        if key not in self._low and free_pct < low:
            self._low.add(key)
            return [HardwareChanged(f"{kind}_low", key, f"low memory: {message}")]
        if key in self._low and free_pct >= low + RECOVERY_MARGIN_PERCENT:
            self._low.discard(key)
            return [HardwareChanged(f"{kind}_recovered", key, f"memory recovered: {message}")]
        return []

    def _temperature(self, g: GpuSample) -> list[HardwareChanged]:
        t, limit = g.temperature_c, self.settings.temp_alert_c
        if t is None:
            return []
        if g.id not in self._hot and t >= limit:
            self._hot.add(g.id)
            return [
                HardwareChanged(
                    "temp_alert", g.id, f"{g.name} at {t:.0f} °C (alert at {limit:.0f} °C)"
                )
            ]
        if g.id in self._hot and t < limit - TEMP_REARM_C:
            self._hot.discard(g.id)
            return [HardwareChanged("temp_recovered", g.id, f"{g.name} cooled to {t:.0f} °C")]
        return []

    def _forget(self, gpu_id: str) -> None:
        # A removed GPU's history would otherwise linger forever as GPUs come and go.
        self._low.discard(gpu_id)
        self._hot.discard(gpu_id)
        for metric in [m for m in self._history if m.startswith(f"gpu:{gpu_id}:")]:
            del self._history[metric]

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        if not self.running:
            self._task = asyncio.create_task(self._run(), name="hardware-monitor")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            try:
                await self.sample_once()
            except Exception:
                log.exception("hardware sample failed")
            # Fixed-rate schedule; after a stall, skip the missed ticks instead of bursting.
            next_at = max(next_at + self.settings.sample_interval_s, loop.time())
            await asyncio.sleep(next_at - loop.time())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def update_settings(self, settings: HardwareSettings) -> None:
        """New thresholds/interval apply from the next sample; history keeps what fits."""
        self.settings = settings
        self._history = {
            k: deque(v, maxlen=settings.history_size) for k, v in self._history.items()
        }

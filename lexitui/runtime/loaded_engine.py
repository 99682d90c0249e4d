"""One loaded model: its engine process, its HTTP client, its request line and its figures.

The manager keeps one of these per load; ``snapshot()`` gives the immutable ``LoadedModel`` the
rest of the app sees. Requests wait on ``slots`` (one per engine slot), so a model never gets more
concurrent requests than its engine decodes at once and the rest queue in arrival order.

Keep-alive: each time the model becomes idle (no request running, waiting or about to be sent)
its expiry is set ``keep_alive_s`` from then and ``on_idle`` is told, so the idle unloader can
plan its one timer; ``keep_alive_s`` None keeps it loaded until it is unloaded by hand.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.inference import (
    LoadedModel,
    LoadedModelMetrics,
    LoadedModelResources,
    LoadedModelStatus,
    LocalGenerationRequest,
    LocalGenerationResult,
)
from lexitui.domain.models import InstalledModel
from lexitui.runtime.footprint import Footprint

RSS_MAX_AGE_S = 1.0

if TYPE_CHECKING:
    import httpx

    from lexitui.backends.base import ModelInstance
    from lexitui.engine.supervisor import EngineSupervisor


@dataclass
class LoadedEngine:
    id: str
    model: InstalledModel
    options: ModelLoadOptions
    supervisor: EngineSupervisor | None  # None: another backend serves it (``instance``)
    footprint: Footprint | None
    context_size: int
    max_concurrent: int = 1
    instance: ModelInstance | None = None
    backend: str = "embedded llama.cpp"
    client: httpx.AsyncClient | None = None
    endpoint: str = ""
    status: LoadedModelStatus = LoadedModelStatus.LOADING
    error: str = ""
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_used_at: datetime | None = None
    active_requests: int = 0
    waiting_requests: int = 0  # in line for a slot
    context_used: int = 0
    requests: int = 0
    tokens: int = 0
    inference_ms: float = 0.0
    tps_sum: float = 0.0
    peak_tps: float = 0.0
    ttft_sum_ms: float = 0.0
    last_exchange: tuple[LocalGenerationRequest, str] | None = None
    # The context's tokens when they are known without the last exchange: after a truncation
    # or a restore (from the snapshot's token list). A new exchange supersedes them.
    known_tokens: list[int] | None = None
    # An answer was stopped: the slot holds its prompt and the text so far (``last_exchange``),
    # which ``ContextManager.sync`` counts; ``context_used`` is stale until then.
    context_pending: bool = False
    keep_alive_s: float | None = None  # how long it stays loaded idle; None: until unloaded
    expires_at: datetime | None = None  # set each time it becomes idle
    # Requests that picked this model but are not running on it yet: waiting for a slot, or
    # routed here and about to be sent. The model is not idle while any are.
    holds: int = 0
    on_idle: Callable[[LoadedEngine], None] | None = None
    slots: asyncio.Semaphore = field(init=False)
    _rss: tuple[float, int] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.slots = asyncio.Semaphore(self.max_concurrent)

    @property
    def pid(self) -> int | None:
        return self.supervisor.pid if self.supervisor else None

    def rss(self) -> int:
        """The engine process's resident memory, read from the system at most once per
        ``RSS_MAX_AGE_S``: every request's routing reads the model's snapshot several times."""
        now = time.monotonic()
        if self._rss is None or now - self._rss[0] >= RSS_MAX_AGE_S:
            self._rss = (now, _process_rss(self.pid))
        return self._rss[1]

    def last_use(self) -> float:
        """When it last answered (or loaded): the least recent idle model is evicted first."""
        return (self.last_used_at or self.loaded_at).timestamp()

    @property
    def idle(self) -> bool:
        ready = self.status is LoadedModelStatus.READY
        return self.active_requests == 0 and self.holds == 0 and ready

    def began(self) -> None:
        self.active_requests += 1
        self.status = LoadedModelStatus.BUSY
        self.last_used_at = datetime.now(UTC)

    def ended(self) -> None:
        self.active_requests -= 1
        if self.active_requests == 0 and self.status is LoadedModelStatus.BUSY:
            self.status = LoadedModelStatus.READY
        self._maybe_idle()

    def hold(self) -> None:
        self.holds += 1

    def release(self) -> None:
        self.holds -= 1
        self._maybe_idle()

    def keep_alive(self, seconds: float | None) -> None:
        """Stay loaded ``seconds`` once idle (from now, if idle now); None: until unloaded."""
        self.keep_alive_s = seconds
        if self.idle:
            self._maybe_idle()
        elif seconds is None:
            self.expires_at = None

    def _maybe_idle(self) -> None:
        if not self.idle:
            return
        seconds = self.keep_alive_s
        self.expires_at = None if seconds is None else _now() + timedelta(seconds=seconds)
        if self.on_idle is not None:
            self.on_idle(self)

    def expired(self, now: datetime) -> bool:
        return self.idle and self.expires_at is not None and now >= self.expires_at

    def record(self, result: LocalGenerationResult) -> None:
        metrics = result.metrics
        self.requests += 1
        self.tokens += result.usage.completion_tokens
        self.inference_ms += metrics.total_ms
        self.tps_sum += metrics.tokens_per_second
        self.peak_tps = max(self.peak_tps, metrics.tokens_per_second)
        self.ttft_sum_ms += metrics.ttft_ms
        if result.context_tokens:
            self.context_used = min(self.context_size, result.context_tokens)

    def snapshot(self, ram_bytes: int = 0) -> LoadedModel:
        footprint = self.footprint
        n = self.requests
        return LoadedModel(
            id=self.id,
            model=self.model,
            options=self.options,
            status=self.status,
            backend=self.backend,
            endpoint=self.endpoint,
            pid=self.pid,
            estimated_bytes=footprint.total_bytes if footprint else 0,
            loaded_at=self.loaded_at,
            last_used_at=self.last_used_at,
            expires_at=self._shown_expiry(),
            active_requests=self.active_requests,
            error=self.error,
            metrics=LoadedModelMetrics(
                total_requests=n,
                total_tokens_generated=self.tokens,
                total_inference_ms=self.inference_ms,
                average_tokens_per_second=self.tps_sum / n if n else 0.0,
                peak_tokens_per_second=self.peak_tps,
                average_ttft_ms=self.ttft_sum_ms / n if n else 0.0,
            ),
            resources=LoadedModelResources(
                ram_bytes=ram_bytes,
                vram_bytes=footprint.vram_bytes if footprint and footprint.vram_bytes else None,
                loaded_layers=footprint.n_layers if footprint else 0,
                gpu_layers=footprint.gpu_layers if footprint else 0,
                cpu_layers=footprint.cpu_layers if footprint else 0,
                context_size=self.context_size,
                context_used=self.context_used,
            ),
        )

    def _shown_expiry(self) -> datetime | None:
        """Idle: when it unloads. Busy: the soonest it could (its keep-alive from now)."""
        if self.keep_alive_s is None:
            return None
        if self.idle and self.expires_at is not None:
            return self.expires_at
        return _now() + timedelta(seconds=self.keep_alive_s)


def _now() -> datetime:
    return datetime.now(UTC)


def _process_rss(pid: int | None) -> int:
    if pid is None:
        return 0
    import psutil

    try:
        return int(psutil.Process(pid).memory_info().rss)
    except (psutil.Error, OSError):
        return 0

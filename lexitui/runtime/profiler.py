"""The performance profiler: what each model really does on this machine.

Every finished generation (``LocalGenerationCompleted``) adds to its model's row: requests,
tokens, decode speed (sum and peak) and time to first token. ``bench()`` runs a fixed set of short
prompts at temperature 0 with a fixed seed, so its medians compare models and machines; they are
stored beside the running figures and, through ``measured_speeds()``, replace the bandwidth
estimate the Discover area shows for the same file. Bench runs are real generations, so they
also count in the running figures. They use the model's slot: a caller with a chat going on
wraps the run in ``ContextManager.preserved`` to keep that chat's context.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from reactivex.abc import DisposableBase

from lexitui.discovery.measured import MeasuredSpeed, repository_of
from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.domain.inference import LocalGenerationRequest
from lexitui.domain.units import GIB
from lexitui.editions.entitlements import OPEN, Entitlements
from lexitui.editions.tiers import Action
from lexitui.events import Event, EventBus, LocalGenerationCompleted
from lexitui.runtime.load_words import describe_options
from lexitui.runtime.manager import InferenceManager
from lexitui.store import Store
from lexitui.store.batched_writes import BatchedWrites
from lexitui.store.loop_writes import LoopWrites
from lexitui.store.performance import ModelPerformance, PerformanceRows

__all__ = ["BenchReport", "BenchRun", "ModelPerformance", "PerformanceProfiler", "machine_summary"]

log = logging.getLogger(__name__)
# Before each step of a bench: steps done, steps in all, what runs now ("warm-up" or the prompt).
BenchProgress = Callable[[int, int, str], None]
BENCH_PROMPTS = (
    "Explain in two sentences why the sky is blue.",
    "Write a short poem about a lighthouse.",
    "List five fruits and one fact about each.",
    "What is the capital of France, and what is it known for?",
)
BENCH_MAX_TOKENS = 64
BENCH_SEED = 42
WARM_UP_TOKENS = 8


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class BenchRun:
    prompt: str
    prompt_tokens: int
    completion_tokens: int
    tokens_per_second: float  # decode speed, as the engine measured it
    ttft_ms: float
    prompt_eval_tokens_per_second: float
    total_ms: float


@dataclass(frozen=True)
class BenchReport:
    model_id: str
    runs: tuple[BenchRun, ...]
    tokens_per_second: float  # medians over the runs
    ttft_ms: float
    prompt_eval_tokens_per_second: float
    load_options: str = ""
    machine: str = ""
    finished_at: datetime = field(default_factory=_now)

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["finished_at"] = self.finished_at.isoformat()
        return out

    def as_text(self) -> str:
        """A table of the runs and the medians, with the machine and options they ran with."""
        lines = [
            f"{self.model_id} ({self.load_options or 'default options'})",
            f"on {self.machine}" if self.machine else "",
            f"{'prompt':<44} {'tokens':>6} {'tok/s':>7} {'TTFT ms':>8} {'prompt tok/s':>12}",
        ]
        for run in self.runs:
            lines.append(
                f"{run.prompt[:44]:<44} {run.completion_tokens:>6} {run.tokens_per_second:>7.1f} "
                f"{run.ttft_ms:>8.0f} {run.prompt_eval_tokens_per_second:>12.0f}"
            )
        lines.append(
            f"{'median':<44} {'':>6} {self.tokens_per_second:>7.1f} {self.ttft_ms:>8.0f} "
            f"{self.prompt_eval_tokens_per_second:>12.0f}"
        )
        return "\n".join(line for line in lines if line)


def machine_summary() -> str:
    """CPU model, cores and RAM in one line, to print beside bench figures."""
    cores = psutil.cpu_count(logical=False) or psutil.cpu_count() or 1
    threads = psutil.cpu_count() or cores
    ram = psutil.virtual_memory().total / GIB
    return (
        f"{_cpu_name()} ({cores} cores, {threads} threads), {ram:.0f} GiB RAM, {platform.system()}"
    )


def _cpu_name() -> str:
    # platform.processor() is empty on most Linux builds; /proc/cpuinfo names the model.
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model") and value.strip():
                return value.strip()
    return platform.processor() or platform.machine() or "unknown CPU"


class PerformanceProfiler:
    def __init__(
        self,
        store: Store,
        bus: EventBus,
        manager: InferenceManager,
        *,
        clock: Callable[[], datetime] = _now,
        entitlements: Callable[[], Entitlements] = lambda: OPEN,
    ) -> None:
        self._rows = PerformanceRows(store)
        # The figures and the benchmark are profiling (Enterprise); recording every generation
        # is not gated, as routing and Discover's measured speeds read the same rows.
        self._entitlements = entitlements
        self._bus = bus
        self._manager = manager
        self._clock = clock
        self._subscription: DisposableBase | None = None
        # Profiling is bookkeeping: a failed write is logged, never raised into the runtime.
        self._writes = LoopWrites(on_error=lambda exc: log.warning("performance row: %s", exc))
        self._generations = BatchedWrites(self._rows.record_generations, self._writes)

    def start(self) -> None:
        """Record finished generations from now on (again after ``stop``)."""
        if self._subscription is None:
            self._writes.bind()
            self._subscription = self._bus.inference.subscribe(self._on_event)

    async def stop(self) -> None:
        """Stop listening and finish the writes already under way."""
        if self._subscription is not None:
            self._subscription.dispose()
            self._subscription = None
        await self._writes.drain()

    def check_bench(self) -> None:
        """Raise ``NotEntitled`` unless this user may profile (ask before loading for it)."""
        self._entitlements().require(Action.PROFILING)

    async def stats(self, model_id: str) -> ModelPerformance | None:
        self.check_bench()
        return await self._rows.get(model_id)

    async def all_stats(self) -> list[ModelPerformance]:
        return await self._rows.all()

    async def measured_speeds(self) -> list[MeasuredSpeed]:
        """Installed files with a measured decode speed, for the Discover area's estimates."""
        return [
            MeasuredSpeed(
                file_name=Path(row.path).name,
                repository=repository_of(row.source, row.path),
                tokens_per_second=row.tokens_per_second,
                benchmarked=row.benchmarked,
            )
            for row in await self._rows.measured_files()
        ]

    async def bench(
        self,
        model: str | None = None,
        progress: BenchProgress | None = None,
        *,
        max_tokens: int = BENCH_MAX_TOKENS,
    ) -> BenchReport:
        """Run the fixed prompts on a loaded model (load id or model id; default the active
        one), after one short warm-up run, and store the medians in its row. ``progress`` hears
        of each step before it runs, and of the end. ``max_tokens`` caps each answer: fewer
        give a quicker, rougher figure."""
        import statistics  # deferred: decimal and fractions stay off the start-up path

        self.check_bench()
        if max_tokens < 1:
            raise ValueError(f"a benchmark needs at least 1 token per answer, not {max_tokens}")

        said = progress or (lambda _done, _total, _what: None)
        steps = len(BENCH_PROMPTS) + 1
        engine = self._manager.engine(model)
        said(0, steps, "warm-up")
        warm_up = _request(BENCH_PROMPTS[0], min(WARM_UP_TOKENS, max_tokens))
        await self._manager.generate(warm_up, model=engine.id)
        runs = []
        for done, prompt in enumerate(BENCH_PROMPTS, start=1):
            said(done, steps, prompt)
            result = await self._manager.generate(_request(prompt, max_tokens), model=engine.id)
            metrics = result.metrics
            runs.append(
                BenchRun(
                    prompt=prompt,
                    prompt_tokens=result.usage.prompt_tokens,
                    completion_tokens=result.usage.completion_tokens,
                    tokens_per_second=metrics.tokens_per_second,
                    ttft_ms=metrics.ttft_ms,
                    prompt_eval_tokens_per_second=metrics.prompt_eval_tokens_per_second,
                    total_ms=metrics.total_ms,
                )
            )
        report = BenchReport(
            model_id=engine.model.id,
            runs=tuple(runs),
            tokens_per_second=statistics.median(r.tokens_per_second for r in runs),
            ttft_ms=statistics.median(r.ttft_ms for r in runs),
            prompt_eval_tokens_per_second=statistics.median(
                r.prompt_eval_tokens_per_second for r in runs
            ),
            load_options=describe_options(engine.options),
            machine=await asyncio.to_thread(machine_summary),
            finished_at=self._clock(),
        )
        await self._rows.record_bench(
            report.model_id, report.tokens_per_second, report.ttft_ms, report.finished_at
        )
        said(steps, steps, "done")
        return report

    def _on_event(self, event: Event) -> None:
        # A request that produced no token has no decode speed or first token to average.
        if isinstance(event, LocalGenerationCompleted) and event.completion_tokens > 0:
            self._generations.submit(
                (
                    event.model_id,
                    event.completion_tokens,
                    event.tokens_per_second,
                    event.time_to_first_token_ms,
                    event.timestamp,
                )
            )


def _request(prompt: str, max_tokens: int = BENCH_MAX_TOKENS) -> LocalGenerationRequest:
    return LocalGenerationRequest(
        messages=(LocalChatMessage(ChatRole.USER, prompt),),
        max_tokens=max_tokens,
        temperature=0.0,
        seed=BENCH_SEED,
    )

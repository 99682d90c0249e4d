"""How the Runtime area writes its figures: loaded-model rows, stream stats, context, profile.

Plain functions over the runtime's records, so every line the screen shows can be checked without
a terminal. Figures that depend on the machine's speed at that moment (tokens per second, time to
first token, resident memory) all go through ``measured``: one place to hold them still when a
picture of the screen must come out the same on every run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from lexitui.domain.text import safe_lines
from lexitui.domain.units import format_bytes
from lexitui.events import (
    Event,
    GenerationFailed,
    ModelLoaded,
    ModelLoadFailed,
    ModelLoadStarted,
    ModelUnloaded,
)
from lexitui.ui.text import markup_safe
from lexitui.ui.widgets.usage_bar import usage_bar

if TYPE_CHECKING:
    from lexitui.domain.inference import ContextStatus, LoadedModel
    from lexitui.domain.language_model import LanguageModelResponse
    from lexitui.runtime.profiler import BenchReport, ModelPerformance

NONE = "—"
GAUGE_WIDTH = 20


def measured(text: str) -> str:
    """A figure that differs from run to run; snapshot tests replace this to fix it."""
    return text


def shown(text: str, limit: int = 200) -> str:
    """Text from a model file or the engine, safe for the terminal and for Rich markup."""
    return markup_safe(text, limit)


def model_text(text: str) -> str:
    """Model output: line breaks and tabs kept (Markdown needs them), other controls visible."""
    return safe_lines(text)


def model_row(model: LoadedModel, active: bool) -> tuple[str, ...]:
    """One row of the loaded-models table; the active model is marked with ``●``."""
    res, metrics = model.resources, model.metrics
    mark = "[b green]●[/] " if active else "  "
    vram = format_bytes(res.vram_bytes) if res.vram_bytes else NONE
    layers = f"{res.gpu_layers}/{res.cpu_layers}" if res.gpu_layers or res.cpu_layers else NONE
    speed = f"{metrics.average_tokens_per_second:.1f}"
    return (
        mark + shown(model.model.id, 60),
        model.status.value,
        measured(format_bytes(res.ram_bytes)) if res.ram_bytes else NONE,
        vram,
        layers,
        f"{res.context_used}/{res.context_size}",
        str(metrics.total_requests),
        measured(speed) if metrics.total_requests else NONE,
    )


MODEL_COLUMNS = ("Model", "Status", "RAM", "VRAM", "GPU/CPU layers", "Context", "Requests", "tok/s")


def streaming_stats(tokens: int, elapsed_s: float, ttft_ms: float | None) -> str:
    """While the answer streams: tokens so far, speed since the first token, TTFT."""
    parts = [f"{tokens} tokens"]
    if ttft_ms is not None:
        speed = tokens / elapsed_s if elapsed_s > 0 else 0.0
        parts += [measured(f"{speed:.1f} tok/s"), measured(f"TTFT {ttft_ms:.0f} ms")]
    else:
        parts.append("waiting for the first token")
    return " · ".join(parts) + " · [dim]Esc stops[/]"


def finished_stats(response: LanguageModelResponse) -> str:
    """After the answer: the engine's own figures (a cloud answer has none of the speeds) and
    why it stopped."""
    parts = [f"{response.usage.completion_tokens} tokens"]
    if response.tokens_per_second is not None:
        parts.append(measured(f"{response.tokens_per_second:.1f} tok/s"))
    if response.ttft_ms is not None:
        parts.append(measured(f"TTFT {response.ttft_ms:.0f} ms"))
    if response.prompt_tokens_per_second is not None:
        parts.append(measured(f"prompt {response.prompt_tokens_per_second:.0f} tok/s"))
    parts.append(f"finish: {shown(response.finish_reason or 'unknown', 40)}")
    return " · ".join(parts)


def context_gauge(status: ContextStatus | None) -> Text:
    """``Context ███░░░ 210/1024 tokens (21%) · KV 4.7 MB``; dotted when nothing is loaded."""
    line = Text("Context ")
    if status is None:
        line.append_text(usage_bar(None, GAUGE_WIDTH))
        line.append(" no model loaded", style="dim")
        return line
    fraction = status.usage_percent / 100
    line.append_text(usage_bar(fraction, GAUGE_WIDTH))
    line.append(
        f" {status.used_tokens}/{status.max_context_size} tokens ({status.usage_percent:.0f}%)"
    )
    if status.kv_cache_bytes:
        line.append(f" · KV {format_bytes(status.kv_cache_bytes)}")
    return line


def profile_text(model_id: str | None, perf: ModelPerformance | None) -> str:
    """The profiler's figures for the active model, as one line."""
    if model_id is None:
        return "[dim]Profile: load a model to see its figures (b benchmarks it)[/]"
    if perf is None or (perf.requests == 0 and perf.bench_tokens_per_second is None):
        return f"Profile of {shown(model_id, 40)}: no requests yet [dim](b benchmarks it)[/]"
    parts = [f"{perf.requests} request{'' if perf.requests == 1 else 's'}"]
    if perf.requests:
        parts += [
            measured(f"avg {perf.average_tokens_per_second:.1f} tok/s"),
            measured(f"peak {perf.peak_tokens_per_second:.1f}"),
            measured(f"TTFT {perf.average_ttft_ms:.0f} ms"),
        ]
    if perf.bench_tokens_per_second is not None:
        ttft = f", TTFT {perf.bench_ttft_ms:.0f} ms" if perf.bench_ttft_ms is not None else ""
        parts.append(measured(f"bench {perf.bench_tokens_per_second:.1f} tok/s{ttft}"))
    return "Profile: " + " · ".join(parts)


def bench_text(report: BenchReport) -> str:
    figures = measured(
        f"{report.tokens_per_second:.1f} tok/s, TTFT {report.ttft_ms:.0f} ms, "
        f"prompt {report.prompt_eval_tokens_per_second:.0f} tok/s"
    )
    return f"Bench of {shown(report.model_id, 40)} ({len(report.runs)} prompts, medians): {figures}"


def event_text(event: Event) -> tuple[str, bool] | None:
    """The status line for an inference event, and whether it reports a failure."""
    if isinstance(event, ModelLoadStarted):
        return f"Loading {shown(event.model_id)} ({shown(event.options)})…", False
    if isinstance(event, ModelLoaded):
        took = measured(f"{event.load_seconds:.1f} s")
        return f"Loaded {shown(event.model_id)} in {took}; it is the active model.", False
    if isinstance(event, ModelLoadFailed):
        return f"[red]Could not load {shown(event.model_id)}:[/] {shown(event.error)}", True
    if isinstance(event, ModelUnloaded):
        if event.reason.startswith("engine exited"):
            return (
                f"[red]{shown(event.model_id)}: {shown(event.reason)}[/]"
                " (f2 shows its log; L loads a model again)",
                True,
            )
        return f"Unloaded {shown(event.model_id)}: {shown(event.reason)}", False
    if isinstance(event, GenerationFailed):
        return f"[red]{shown(event.model_id)} failed:[/] {shown(event.error)}", True
    return None

"""One host in full: everything its last status said (hardware, engines, installed and loaded
models, requests, KV cache), or why it is down."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from lexitui.fleet.host_state import HostState
from lexitui.ui.fleet.rows import gib, gpu_cells
from lexitui.ui.text import markup_safe


def host_details(state: HostState) -> str:
    """The details as markup; every text from the host is escaped."""
    safe = markup_safe
    lines = [
        f"[b]{safe(state.name)}[/b]  {safe(state.kind)} at {safe(state.url, 300)}",
        "Health: "
        + ("[green]up[/]" if state.healthy else f"[red]down[/]: {safe(state.reason, 600)}")
        + ("" if state.latency_ms is None else f"  ({state.latency_ms:.0f} ms)"),
    ]
    if not state.healthy:
        return "\n".join(lines)
    kv = "-" if state.kv_used is None else f"{state.kv_used:.0%}"
    lines.append(f"Requests: {state.running} running, {state.waiting} waiting; KV cache {kv}")
    if state.cpu_percent is not None or state.ram_total_bytes:
        cpu = "-" if state.cpu_percent is None else f"{state.cpu_percent:.0f}%"
        lines.append(f"CPU {cpu}, RAM {gib(state.ram_used_bytes, state.ram_total_bytes)}")
    for gpu in state.gpus:
        _, _, util, vram, temp, *_ = gpu_cells(gpu)
        lines.append(f"GPU {safe(gpu.name)}: util {util}, VRAM {vram}, {temp}")
    lines.append("")
    lines.append("[b]Engines[/b]")
    for engine in state.engines:
        layers = (
            ""
            if engine.gpu_layers is None
            else f", {engine.gpu_layers} GPU / {engine.cpu_layers or 0} CPU layers"
        )
        lines.append(
            f"  {safe(engine.model)} on {safe(engine.backend)} ({safe(engine.status)}{layers}), "
            f"{engine.active_requests} answering, {engine.total_requests} answered"
        )
    if not state.engines:
        lines.append("  none")
    lines.append("[b]Loaded[/b]: " + (safe(", ".join(state.loaded), 2000) or "none"))
    installed = [m for m in state.models if m not in state.loaded]
    lines.append("[b]Installed[/b]: " + (safe(", ".join(installed), 4000) or "none"))
    return "\n".join(lines)


def downloads_text(rows: list[dict[str, Any]]) -> str:
    """The host's downloads, one line each, as markup (every text from the host escaped)."""
    lines = ["[b]Downloads[/b]" + ("" if rows else ": none")]
    for row in rows:
        line = f"  {markup_safe(str(row.get('model')))}: {markup_safe(str(row.get('status')))}"
        line += f" {row.get('progress', 0)}%"
        if row.get("error"):
            line += f" ({markup_safe(str(row['error']), 300)})"
        lines.append(line)
    return "\n".join(lines)


class HostDetailsScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HostDetailsScreen { align: center middle; }
    #host-details-box {
        width: 90%; height: auto; max-height: 90%;
        border: $frame $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,q,i", "dismiss", "Close", id="fleet.details.close")]

    def __init__(
        self,
        state: HostState,
        downloads: Callable[[], Awaitable[list[dict[str, Any]]]] | None = None,
    ) -> None:
        super().__init__()
        self.state = state
        self.downloads = downloads

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="host-details-box"):
            # As Rich text: the details' spacing (indents, gaps after a bold name) is kept.
            yield Static(Text.from_markup(host_details(self.state)), id="host-details")
            if self.downloads is not None:
                yield Static("[b]Downloads[/b]: asking…", id="host-downloads")
            yield Static("[dim]Esc closes[/]")

    def on_mount(self) -> None:
        if self.downloads is not None:
            self.run_worker(self._show_downloads(self.downloads), group="host-downloads")

    async def _show_downloads(self, fetch: Callable[[], Awaitable[list[dict[str, Any]]]]) -> None:
        from lexitui.fleet.model_orders import OrderFailed

        try:
            shown = downloads_text(await fetch())
        except OrderFailed as exc:
            shown = f"[b]Downloads[/b]: {markup_safe(str(exc), 600)}"
        if self.is_attached:
            self.query_one("#host-downloads", Static).update(Text.from_markup(shown))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)

"""Hardware: CPU, RAM, disk and every GPU, live, and which models this machine runs well.

A view over three streams: detection results (``HardwareDetected``, re-read from
``detector.last``), the monitor's samples (bars and history lines), and the monitor's changes
(``HardwareChanged``, shown as notifications). Nothing is drawn from guesses: until detection
finishes the screen says so and shows no figures.
"""

from __future__ import annotations

import asyncio
from functools import partial

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.notifications import SeverityLevel
from textual.widgets import Footer, Static

from lexitui.domain.enums import InferenceMode
from lexitui.domain.hardware import HardwareCapabilities, ModelSizeRecommendation
from lexitui.domain.samples import HardwareSample
from lexitui.domain.text import safe_text
from lexitui.engine.devices import EngineInfo, available_engines
from lexitui.events import HardwareChanged, HardwareDetected
from lexitui.hardware.memory_estimate import REPRESENTATIVE
from lexitui.hardware.settings import HardwareSettings, save_hardware_settings
from lexitui.hardware.unused_gpu import unused_gpu_note
from lexitui.ui.shell.area_header import AreaHeader
from lexitui.ui.shell.area_screen import AreaScreen
from lexitui.ui.text import plain, plain_lines
from lexitui.ui.widgets.gpu_card import GpuCard
from lexitui.ui.widgets.recommendation_table import RecommendationTable, legend
from lexitui.ui.widgets.system_panel import SystemPanel

DETECTING = "Detecting hardware…"
WARNINGS = ("ram_low", "vram_low", "temp_alert", "gpu_removed")


def gpu_summary(caps: HardwareCapabilities, engines: tuple[EngineInfo, ...] = ()) -> Text:
    text = _gpus_line(caps)
    for engine in engines:
        text.append("\nEngine: ", style="bold")
        text.append(safe_text(engine.summary(), 300))
    note = unused_gpu_note(caps.gpus)
    if note:
        text.append("\nCPU-only engine: ", style="bold yellow")
        text.append(note)
    return text


def _gpus_line(caps: HardwareCapabilities) -> Text:
    if not caps.gpus:
        text = Text("CPU-only mode: ", style="bold yellow")
        text.append("no usable GPU was found, so models run on the CPU from RAM.")
        if caps.probe_notes:
            text.append(" The notes below say why.")
        return text
    counts: dict[str, int] = {}
    for gpu in caps.gpus:
        counts[gpu.name] = counts.get(gpu.name, 0) + 1
    if len(caps.gpus) == 1:
        text = Text("GPU: ", style="bold")
        text.append(safe_text(caps.gpus[0].name, 120))
    else:
        text = Text("GPUs: ", style="bold")
        text.append(", ".join(f"{n}x {safe_text(name, 60)}" for name, n in counts.items()))
    if caps.recommendation.recommended_mode is InferenceMode.CPU_ONLY:
        text.append("  CPU-only mode: ", style="bold yellow")
        text.append("the GPU-layers setting keeps models on the CPU (s changes it).")
    return text


def recommendation_summary(rec: ModelSizeRecommendation) -> Text:
    where = {
        InferenceMode.FULL_GPU: f"all {rec.estimated_gpu_layers} layers on the GPU",
        InferenceMode.HYBRID_GPU_CPU: f"{rec.estimated_gpu_layers} layers on the GPU, "
        "the rest on the CPU",
        InferenceMode.CPU_ONLY: "on the CPU",
    }[rec.recommended_mode]
    text = Text("Recommended: ", style="bold")
    text.append(
        f"{rec.max_recommended_size.value} models (like "
        f"{REPRESENTATIVE[rec.max_recommended_size].example}) at "
        f"{rec.recommended_quantization.value}, {rec.recommended_context_length} tokens of "
        f"context, {where}",
        style="bold",
    )
    return text


class HardwareScreen(AreaScreen):
    BINDINGS = [
        Binding("r", "refresh", "Re-detect", id="hardware.refresh"),
        Binding("s", "settings", "Settings", id="hardware.settings"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (140, "-wide")]

    def __init__(self) -> None:
        super().__init__("hardware")
        self.shown: HardwareCapabilities | None = None  # what the screen shows now
        self.samples_shown = 0
        self._cards: dict[str, GpuCard] = {}
        self._render_lock = asyncio.Lock()

    def compose(self) -> ComposeResult:
        yield AreaHeader()
        with VerticalScroll(id="hw-body"):
            yield Static(DETECTING, id="hw-status")
            with Vertical(id="hw-details"):
                yield SystemPanel(id="hw-system", classes="panel")
                yield Vertical(id="hw-gpus")
                yield Static(id="hw-notes", classes="panel")
                with Vertical(id="hw-rec", classes="panel"):
                    yield Static(id="hw-rec-summary")
                    yield Static(id="hw-explanation")
                    yield Static(legend(), id="hw-legend")
                    yield RecommendationTable(id="hw-table")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lexitui · Hardware"
        self.query_one("#hw-details").display = False
        self.query_one("#hw-notes").border_title = "Probe notes"
        self.query_one("#hw-rec").border_title = "What runs well here"

    async def on_screen_resume(self) -> None:
        self.query_one("#hw-body").focus()
        services = await self.ready()
        self.watch_stream(services.bus.of(HardwareDetected), self._on_detected)
        self.watch_stream(services.bus.of(HardwareChanged), self._on_changed)
        self.watch_stream(services.monitor.samples, self._on_sample)
        if services.hardware.last is not None:
            await self._show(services.hardware.last)

    # --- drawing ----------------------------------------------------------------------------

    async def _show(self, caps: HardwareCapabilities) -> None:
        engines = await asyncio.to_thread(available_engines)  # probed once, during detection
        async with self._render_lock:
            container = self.query_one("#hw-gpus", Vertical)
            await container.remove_children()
            cards = {gpu.id: GpuCard(gpu) for gpu in caps.gpus}
            await container.mount_all(cards.values())
            container.set_class(len(cards) > 1, "-many")  # side by side on wide terminals
            self._cards = cards
            self.query_one(SystemPanel).show_caps(caps)
            self._show_notes(caps.probe_notes)
            rec = caps.recommendation
            self.query_one("#hw-rec-summary", Static).update(recommendation_summary(rec))
            self.query_one("#hw-explanation", Static).update(plain_lines(rec.explanation or ""))
            self.query_one(RecommendationTable).show(rec)
            self.query_one("#hw-status", Static).update(gpu_summary(caps, engines))
            self.query_one("#hw-details").display = True
            self.shown = caps
            latest = self.services.monitor.latest
            if latest is not None:
                self._on_sample(latest)

    def _show_notes(self, notes: tuple[str, ...]) -> None:
        panel = self.query_one("#hw-notes", Static)
        panel.display = bool(notes)
        panel.update(Text("\n".join(f"• {safe_text(note, 600)}" for note in notes)))

    def _on_sample(self, sample: HardwareSample) -> None:
        if self.shown is None:
            return  # detection has not been drawn yet; it applies the latest sample itself
        monitor = self.services.monitor
        self.query_one(SystemPanel).show_sample(sample, monitor.history)
        for gpu in sample.gpus:
            card = self._cards.get(gpu.id)
            if card is not None and card.is_mounted:
                card.show_sample(gpu, monitor.history, temp_alert_c=monitor.settings.temp_alert_c)
        self.samples_shown += 1

    def _on_detected(self, _event: HardwareDetected) -> None:
        caps = self.services.hardware.last
        if caps is not None:
            self.run_worker(self._show(caps), group="hw-show")

    def _on_changed(self, event: HardwareChanged) -> None:
        severity: SeverityLevel = "warning" if event.change in WARNINGS else "information"
        self.notify(
            safe_text(event.message, 600),
            title=event.change.replace("_", " "),
            severity=severity,
            markup=False,
        )
        if event.change in ("gpu_added", "gpu_removed"):
            self.action_refresh()  # the cards follow the GPUs that are there now

    # --- actions ----------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.redetect()

    @work(exclusive=True, group="hw-detect")
    async def redetect(self) -> None:
        services = await self.ready()
        status = self.query_one("#hw-status", Static)
        status.update("Re-detecting hardware…" if self.shown else DETECTING)
        try:
            await services.hardware.detect()  # HardwareDetected then redraws the screen
        except Exception as exc:  # probes fail soft; anything else is shown, not raised
            status.update(plain(f"Detection failed: {exc}", 600, style="red"))

    @work(exclusive=True, group="hw-settings")
    async def action_settings(self) -> None:
        from lexitui.ui.hardware.settings_dialog import HardwareSettingsScreen

        services = await self.ready()
        gpus = await services.hardware.gpus(apply_settings=False)
        form = HardwareSettingsScreen(
            services.hardware.settings, gpus, save=partial(save_hardware_settings, services.paths)
        )
        await self.app.push_screen(form, callback=self._apply_settings)

    def _apply_settings(self, settings: HardwareSettings | None) -> None:
        if settings is None:
            return  # cancelled: nothing was saved
        services = self.services
        services.hardware.settings = settings
        services.monitor.update_settings(settings)
        self.notify("Hardware settings saved and applied.", title="settings")
        self.redetect()

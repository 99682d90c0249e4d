"""The load dialog of the Runtime area: pick a model and its load options, see whether it fits.

Every option is checked as it is typed and a bad value is named beside its field; the memory
estimate is asked for once typing pauses (a debounce), from the same analyzer the load itself
uses, so the verdict shown is the one the load will meet. A blank field leaves the choice to the
engine. The dialog only returns the choice: the caller loads, and when the load raises
``ModelDoesNotFit`` it asks with ``ConfirmEvictDialog`` (``evict_dialog.py``) before trying
again with ``evict``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Label, Select, Static

from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.slots import context_words, slots_problem
from lexitui.domain.text import safe_text
from lexitui.domain.units import format_bytes
from lexitui.runtime.footprint import Footprint
from lexitui.runtime.manager import DEFAULT_LOAD
from lexitui.runtime.settings import MAX_PARALLEL
from lexitui.ui.text import plain
from lexitui.ui.widgets.limit_pill import LimitPill

if TYPE_CHECKING:
    from lexitui.services import Services
    from lexitui.services.edition_usage import LimitUsage

DEBOUNCE_S = 0.3
MMAP_CHOICES = (("default", "default"), ("on", "on"), ("off", "off"))
MLOCK_CHOICES = (("off", "off"), ("on", "on"))


@dataclass(frozen=True)
class LoadChoice:
    model_id: str
    options: ModelLoadOptions
    evict: bool = False  # unload idle models to make room; set only after the user agreed


@dataclass(frozen=True)
class NumberField:
    key: str  # the ModelLoadOptions field it fills
    label: str
    minimum: int | float  # a float minimum makes a decimal field, and its bound exclusive
    maximum: int | float
    rule: str  # the message for a value that is not allowed

    @property
    def decimal(self) -> bool:
        return isinstance(self.minimum, float)


# Upper bounds keep values inside what the engine's C integers and llama.cpp accept.
NUMBER_FIELDS: tuple[NumberField, ...] = (
    NumberField("context_length", "Context", 256, 2**24, "context must be a whole number ≥ 256"),
    NumberField("gpu_layers", "GPU layers", -1, 100_000, "GPU layers must be -1, 0 or a count"),
    NumberField("threads", "Threads", 1, 1024, "threads must be a whole number ≥ 1"),
    NumberField("parallel", "Parallel slots", 1, MAX_PARALLEL, "slots must be a whole number ≥ 1"),
    NumberField("batch_size", "Batch size", 1, 2**20, "batch size must be a whole number ≥ 1"),
    NumberField("main_gpu", "Main GPU", 0, 255, "main GPU must be a GPU index ≥ 0"),
    NumberField("rope_freq_base", "RoPE freq base", 0.0, 1e12, "RoPE base must be a number > 0"),
    NumberField("rope_freq_scale", "RoPE freq scale", 0.0, 1e6, "RoPE scale must be a number > 0"),
)
# Shown beside a field while its value is fine.
HINTS = {
    "context_length": "tokens the model sees at once",
    "gpu_layers": "-1 all · 0 CPU only · N layers",
    "threads": "CPU threads for generation",
    "parallel": "requests at once, sharing the context",
    "batch_size": "prompt tokens per step",
    "main_gpu": "index of the GPU used first",
    "rope_freq_base": "blank = the model's own value",
    "rope_freq_scale": "blank = the model's own value",
}


def parse_field(spec: NumberField, text: str) -> int | float | None:
    """The value of one field (None when blank); ValueError carries the message to show."""
    text = text.strip()
    if not text:
        return None
    try:
        value: int | float = float(text) if spec.decimal else int(text)
    except ValueError:
        raise ValueError(spec.rule) from None
    # A float's lower bound is exclusive: a RoPE base or scale of 0 means nothing.
    low = value <= spec.minimum if spec.decimal else value < spec.minimum
    if not math.isfinite(value) or low:
        raise ValueError(spec.rule)
    if value > spec.maximum:
        raise ValueError(f"{spec.label} must be at most {_shown_option(spec.maximum)}")
    return value


def options_from_form(
    values: Mapping[str, str], mmap: str, mlock: str
) -> tuple[ModelLoadOptions | None, dict[str, str]]:
    """The options the fields describe, or None and the message for each bad field."""
    parsed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in NUMBER_FIELDS:
        try:
            parsed[spec.key] = parse_field(spec, values.get(spec.key, ""))
        except ValueError as exc:
            errors[spec.key] = str(exc)
    slots = parsed.get("parallel")
    if slots and slots_problem(slots, embedding=True):  # the dialog loads with embeddings on
        errors["parallel"] = "with embeddings, slots must be 1, 2, 4, 8…"
    if errors:
        return None, errors
    use_mmap = {"on": True, "off": False}.get(mmap)
    # Off is "not asked for" (None), so the default options compare equal to a plain load.
    use_mlock = True if mlock == "on" else None
    options = ModelLoadOptions(**parsed, use_mmap=use_mmap, use_mlock=use_mlock, embedding=True)
    return options, {}


def fit_text(footprint: Footprint) -> Text:
    """The verdict in words first (it must read the same without colour), then the figures."""
    text = Text()
    if footprint.fits_machine:
        text.append("Fits this machine now", style="bold green")
    else:
        text.append("Does not fit this machine now", style="bold red")
    vram = format_bytes(footprint.vram_bytes) if footprint.vram_bytes else "none"
    text.append(f"\nRAM {format_bytes(footprint.ram_bytes)} · VRAM {vram}")
    if footprint.parallel > 1:  # each request sees only its share of the context
        text.append(f" · {context_words(footprint.context_length, footprint.parallel)}")
    text.append(
        f"\nLayers: {footprint.gpu_layers} on GPU, {footprint.cpu_layers} on CPU"
        f" (of {footprint.n_layers})"
    )
    if footprint.engine_note:
        text.append(f"\n{footprint.engine_note}", style="yellow")
    return text


async def app_services(screen: Screen[Any]) -> Services:
    """The app's services once started (a dialog may open while they are still starting)."""
    from lexitui.ui.app import LexituiApp

    app = screen.app
    assert isinstance(app, LexituiApp)
    await app.services_ready.wait()
    return app.services


def _shown_option(value: object) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


class LoadModelDialog(ModalScreen[LoadChoice | None]):
    DEFAULT_CSS = """
    LoadModelDialog { align: center middle; }
    #load-box {
        width: 78; max-width: 100%; height: auto; max-height: 100%;
        border: $frame $accent; background: $surface; padding: 0 1;
    }
    .load-row { height: 1; }
    .load-row Label { width: 16; }
    .load-row Input, .load-row Select { width: 14; }
    .load-row Input { background: $boost; }
    #load-model { width: 1fr; }
    .load-note { width: 1fr; padding-left: 1; color: $text-muted; }
    .load-note.error { color: $error; text-style: bold; }
    #load-fit { height: 3; margin-top: 1; }
    #load-fit.error { color: $error; }
    #load-buttons { height: 1; margin-top: 1; align-horizontal: right; }
    #load-buttons Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="load_model.cancel"),
        Binding("ctrl+s", "load", "Load", id="load_model.load"),
    ]

    def __init__(
        self,
        models: Sequence[tuple[str, str]],
        selected: str | None = None,
        *,
        options: ModelLoadOptions | None = None,
        limit: LimitUsage | None = None,
    ) -> None:
        """``models`` are (id, name) pairs; ``options`` fill the fields (the defaults if None);
        ``limit`` is the edition's loaded-model limit and its use, shown beside Load."""
        super().__init__()
        self.limit = limit
        self.models = tuple(models)
        ids = [model_id for model_id, _name in self.models]
        self.selected = selected if selected in ids else (ids[0] if ids else None)
        self.initial = options or DEFAULT_LOAD

    def compose(self) -> ComposeResult:
        # One scrolling box: on a tiny terminal Tab still brings the verdict and buttons into view.
        with VerticalScroll(id="load-box", can_focus=False):
            with Horizontal(classes="load-row"):
                yield Label("Model")
                named = [(Text(safe_text(name)), model_id) for model_id, name in self.models]
                yield Select[str](
                    named,
                    prompt="No models installed",
                    allow_blank=not named,
                    value=self.selected or Select.NULL,
                    compact=True,
                    id="load-model",
                )
            for spec in NUMBER_FIELDS:
                with Horizontal(classes="load-row"):
                    yield Label(spec.label)
                    value = _shown_option(getattr(self.initial, spec.key))
                    allowed = r"[0-9.eE+-]*" if spec.decimal else r"-?[0-9]*"
                    yield Input(
                        value,
                        placeholder="default",
                        restrict=allowed,
                        compact=True,
                        id=f"load-{spec.key}",
                    )
                    note = HINTS[spec.key]
                    yield Static(note, classes="load-note", id=f"load-note-{spec.key}")
            use_mmap = self.initial.use_mmap
            mmap = "default" if use_mmap is None else "on" if use_mmap else "off"
            mlock = "on" if self.initial.use_mlock else "off"  # never locked unless asked
            switches = (
                ("Memory map", "mmap", MMAP_CHOICES, mmap, "read the file through mmap"),
                ("Lock in RAM", "mlock", MLOCK_CHOICES, mlock, "never swap the model out"),
            )
            for label, key, choices, value, note in switches:
                with Horizontal(classes="load-row"):
                    yield Label(label)
                    yield Select[str](
                        choices, value=value, allow_blank=False, compact=True, id=f"load-{key}"
                    )
                    yield Static(note, classes="load-note")
            yield Static("", id="load-fit")
            with Horizontal(id="load-buttons"):
                yield LimitPill(id="load-limit")
                yield Button("Load", variant="primary", compact=True, id="load-ok")
                yield Button("Cancel", compact=True, id="load-cancel")

    def on_mount(self) -> None:
        box = self.query_one("#load-box")
        box.border_title = "Load a model"
        box.border_subtitle = "Enter loads · Tab next field · Esc cancels"
        first = "#load-context_length" if self.selected else "#load-model"
        self.query_one(first).focus()
        self.query_one("#load-limit", LimitPill).show(self.limit)
        self.refresh_form()

    # --- reading and checking the form ----------------------------------------------------------

    def model_id(self) -> str | None:
        value = self.query_one("#load-model", Select).value
        return value if isinstance(value, str) else None

    def form_values(self) -> dict[str, str]:
        return {s.key: self.query_one(f"#load-{s.key}", Input).value for s in NUMBER_FIELDS}

    def current_options(self) -> tuple[ModelLoadOptions | None, dict[str, str]]:
        mmap = self.query_one("#load-mmap", Select).value
        mlock = self.query_one("#load-mlock", Select).value
        return options_from_form(self.form_values(), str(mmap), str(mlock))

    def refresh_form(self) -> None:
        """Show each field's error (or its hint) and ask for a new estimate when all are valid."""
        options, errors = self.current_options()
        for spec in NUMBER_FIELDS:
            note = self.query_one(f"#load-note-{spec.key}", Static)
            message = errors.get(spec.key)
            note.update(plain(message) if message else HINTS[spec.key])  # echoes what was typed
            note.set_class(message is not None, "error")
        model_id = self.model_id()
        if model_id is None:
            self.workers.cancel_group(self, "load-estimate")
            self._show_fit("No model to load: add one in the Models area first.", error=True)
        elif options is None:
            self.workers.cancel_group(self, "load-estimate")
            self._show_fit("Fix the fields marked in red to see the memory estimate.", error=True)
        else:
            self.estimate(model_id, options)

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        self.refresh_form()

    # --- the live estimate ------------------------------------------------------------------

    @work(exclusive=True, group="load-estimate")
    async def estimate(self, model_id: str, options: ModelLoadOptions) -> None:
        # Exclusive: a newer edit cancels this one while it sleeps, so only a pause in typing
        # reaches the estimator (it reads the GGUF header and detects the hardware).
        await asyncio.sleep(DEBOUNCE_S)
        self._show_fit("Estimating memory…")
        try:
            footprint = await (await app_services(self)).runtime.estimate(model_id, options)
        except Exception as exc:  # a missing file, a bad header, detection off: say so, stay open
            self._show_fit(f"Cannot estimate memory: {safe_text(str(exc))}", error=True)
            return
        self._show_fit(fit_text(footprint))

    def _show_fit(self, text: str | Text, *, error: bool = False) -> None:
        found = self.query("#load-fit").results(Static)
        fit = next(found, None)
        if fit is None or not self.is_attached:  # the dialog closed while the estimate ran
            return
        fit.update(Text(text) if isinstance(text, str) else text)
        fit.set_class(error, "error")

    # --- leaving ----------------------------------------------------------------------------

    def action_load(self) -> None:
        options, errors = self.current_options()
        model_id = self.model_id()
        if options is None or model_id is None:
            self.refresh_form()
            bad = next((s.key for s in NUMBER_FIELDS if s.key in errors), None)
            self.query_one(f"#load-{bad}" if bad else "#load-model").focus()
            return
        self.workers.cancel_group(self, "load-estimate")
        self.dismiss(LoadChoice(model_id, options))

    def action_cancel(self) -> None:
        self.workers.cancel_group(self, "load-estimate")
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_load()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "load-ok":
            self.action_load()
        else:
            self.action_cancel()

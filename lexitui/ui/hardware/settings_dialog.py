"""The hardware settings form (roadmap v0.16.1j): edit, validate, save; Esc leaves unchanged.

Values go through ``HardwareSettings`` itself, so the form accepts exactly what the config file
accepts and shows the same messages. Nothing is written unless every value is valid. The screen
that opened the form applies the saved settings (detector, monitor, re-detection).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, SelectionList, Static

from lexitui.domain.hardware import GpuInfo
from lexitui.hardware.settings import SECTION, HardwareSettings, HardwareSettingsError
from lexitui.ui.text import markup_safe

Kind = Literal["integer", "number", "text"]
# (settings key, label, Input type); gpu_layers_policy is text: a word or a layer count.
FIELDS: tuple[tuple[str, str, Kind], ...] = (
    ("vram_headroom_mb", "VRAM kept free per GPU (MiB)", "integer"),
    ("ram_headroom_mb", "RAM kept free (MiB)", "integer"),
    ("cpu_threads", "CPU threads (0 = automatic)", "integer"),
    ("gpu_layers_policy", "GPU layers: auto, all, none or a count", "text"),
    ("sample_interval_s", "Sample every (seconds)", "number"),
    ("temp_alert_c", "Temperature alert (°C)", "number"),
    ("vram_low_percent", "Alert when free VRAM is under (%)", "number"),
    ("ram_low_percent", "Alert when available RAM is under (%)", "number"),
)


def _shown(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _parse(key: str, kind: Kind, text: str) -> object:
    text = text.strip()
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        what = "a whole number" if kind == "integer" else "a number"
        raise HardwareSettingsError(f"[{SECTION}] {key} must be {what}, got {text!r}") from None
    word = text.lower()
    return int(word) if word.isdigit() else word


def allowed_from_choice(selected: Sequence[str], found: Sequence[GpuInfo]) -> tuple[str, ...]:
    """Ticked GPU ids -> ``allowed_gpus``: every GPU found ticked means "any" (the empty list)."""
    found_ids = [gpu.id for gpu in found]
    if not selected:
        if found_ids:
            raise HardwareSettingsError(
                f"[{SECTION}] allowed_gpus: tick at least one GPU, or set GPU layers to "
                '"none" to run on the CPU only'
            )
        return ()
    if set(selected) == set(found_ids):
        return ()
    return tuple(selected)


def settings_from_form(
    base: HardwareSettings,
    values: Mapping[str, str],
    selected: Sequence[str],
    found: Sequence[GpuInfo],
) -> HardwareSettings:
    """The edited settings; ``HardwareSettingsError`` names the first bad value."""
    parsed: dict[str, Any] = {key: _parse(key, kind, values[key]) for key, _label, kind in FIELDS}
    allowed = allowed_from_choice(selected, found)
    return replace(base, allowed_gpus=allowed, **parsed)


class HardwareSettingsScreen(ModalScreen[HardwareSettings | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="hardware_settings.cancel"),
        Binding("ctrl+s", "save", "Save", id="hardware_settings.save"),
    ]

    def __init__(
        self,
        settings: HardwareSettings,
        gpus: Sequence[GpuInfo],
        *,
        save: Callable[[HardwareSettings], None],
    ) -> None:
        super().__init__()
        self.settings = settings
        self.gpus = tuple(gpus)
        self._save = save

    def _gpu_choices(self) -> list[tuple[str, str, bool]]:
        choices = [
            (markup_safe(f"{g.id} · {g.name}", 80), g.id, self.settings.allows(g.id, g.uuid))
            for g in self.gpus
        ]
        known = {g.id for g in self.gpus} | {g.uuid for g in self.gpus if g.uuid}
        choices += [
            (f"{markup_safe(entry, 80)} (not found now)", entry, True)
            for entry in self.settings.allowed_gpus
            if entry not in known
        ]
        return choices

    def compose(self) -> ComposeResult:
        with Vertical(id="hws-box"):
            with VerticalScroll(id="hws-form"):
                yield Static("Allowed GPUs (all ticked = any GPU, also ones added later)")
                choices = self._gpu_choices()
                if choices:
                    yield SelectionList[str](*choices, id="hws-gpus")
                else:
                    yield Static("No GPU found: inference uses the CPU.", classes="dim")
                with Grid(id="hws-fields"):
                    for key, label, kind in FIELDS:
                        yield Label(label)
                        value = _shown(getattr(self.settings, key))
                        yield Input(value, type=kind, id=f"hws-{key}")
            yield Static("", id="hws-error")
            with Horizontal(id="hws-buttons"):
                yield Button("Save", variant="primary", id="hws-save")
                yield Button("Cancel", id="hws-cancel")

    def on_mount(self) -> None:
        self.query_one("#hws-box").border_title = "Hardware settings"
        self.query_one("#hws-box").border_subtitle = "ctrl+s saves · Esc cancels"

    def form_values(self) -> dict[str, str]:
        return {key: self.query_one(f"#hws-{key}", Input).value for key, _l, _k in FIELDS}

    def selected_gpus(self) -> list[str]:
        lists = self.query("#hws-gpus").results(SelectionList)
        return [str(value) for gpu_list in lists for value in gpu_list.selected]

    def show_error(self, message: str) -> None:
        error = self.query_one("#hws-error", Static)
        error.update(Text(message))
        error.set_class(bool(message), "error")

    def action_save(self) -> None:
        try:
            settings = settings_from_form(
                self.settings, self.form_values(), self.selected_gpus(), self.gpus
            )
            self._save(settings)
        except HardwareSettingsError as exc:
            self.show_error(str(exc))
            return
        except OSError as exc:
            self.show_error(f"Could not write the config file: {exc}")
            return
        self.dismiss(settings)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "hws-save":
            self.action_save()
        else:
            self.action_cancel()

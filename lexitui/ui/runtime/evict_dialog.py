"""The Runtime area's question before a load makes room: the load did not fit, and unloading
the idle models it names would free enough. ``y``/Enter unloads them and loads, ``n``/Esc keeps
them."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from lexitui.domain.text import safe_text
from lexitui.domain.units import format_bytes


class ConfirmEvictDialog(ModalScreen[bool]):
    """Asks before unloading idle models to make room: ``y``/Enter yes, ``n``/Esc no."""

    DEFAULT_CSS = """
    ConfirmEvictDialog { align: center middle; }
    #evict-box {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: $frame $warning; background: $surface; padding: 0 1;
    }
    #evict-list { height: auto; max-height: 10; margin: 1 0; }
    #evict-buttons { height: 1; align-horizontal: right; }
    #evict-buttons Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("y,enter", "answer(True)", "Unload", id="confirm_evict.yes"),
        Binding("n,escape", "answer(False)", "Keep", id="confirm_evict.no"),
    ]

    def __init__(self, message: str, evictable: Sequence[str]) -> None:
        """``message`` is the load error's text; ``evictable`` the load ids it names."""
        super().__init__()
        self.message = message
        self.evictable = tuple(evictable)

    def compose(self) -> ComposeResult:
        with Vertical(id="evict-box"):
            yield Static(Text(safe_text(self.message, 400)), id="evict-message")
            yield Static(self._listing(), id="evict-list")
            yield Static("Unload them and load the new model?")
            with Horizontal(id="evict-buttons"):
                yield Button("Unload (y)", variant="warning", compact=True, id="evict-yes")
                yield Button("Keep (n)", compact=True, id="evict-no")

    def _listing(self) -> Text:
        """Each load id with its model's name and estimate, when it is still loaded."""
        from lexitui.ui.app import LexituiApp

        app = self.app
        loaded = (
            {m.id: m for m in app.services.runtime.loaded_models()}
            if isinstance(app, LexituiApp)
            else {}
        )
        lines = Text("Would unload:")
        for load_id in self.evictable:
            model = loaded.get(load_id)
            line = f"\n  • {safe_text(load_id)}"
            if model is not None:
                size = (
                    f", about {format_bytes(model.estimated_bytes)}"
                    if model.estimated_bytes
                    else ""
                )
                line = f"\n  • {safe_text(model.model.name)} ({safe_text(load_id)}{size})"
            lines.append(line)
        if not self.evictable:
            lines.append("\n  nothing: no idle model can be unloaded")
        return lines

    def on_mount(self) -> None:
        self.query_one("#evict-box").border_title = "Not enough memory"
        self.query_one("#evict-yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "evict-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

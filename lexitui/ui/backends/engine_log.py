"""The embedded engine's log (llama.cpp's own output), for when a model will not load or answer."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Log, Static

from lexitui.domain.text import safe_lines
from lexitui.engine.process import read_log_tail
from lexitui.ui.text import markup_safe

TAIL_BYTES = 256 * 1024


def read_tail(path: Path, limit: int = TAIL_BYTES) -> str:
    """The end of the log, every control character but line breaks and tabs shown as an escape."""
    try:
        raw = read_log_tail(path, limit)
    except FileNotFoundError:
        return f"No engine log yet ({path.name}): load a model first."
    return safe_lines(raw)


class EngineLogScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="log.close")]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical(id="log-box"):
            yield Static(f"[b]Engine log[/b]  {markup_safe(self.path.name)}  (Esc closes)")
            yield Log(id="engine-log", highlight=False)

    def on_mount(self) -> None:
        log = self.query_one(Log)
        log.write(read_tail(self.path))
        log.focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)

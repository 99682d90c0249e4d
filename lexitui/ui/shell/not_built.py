"""The screen of an area whose features have not landed yet: it says so, and shows no data."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.widgets import Footer, Static

from lexitui.areas import area
from lexitui.ui.shell.area_header import AreaHeader
from lexitui.ui.shell.area_screen import AreaScreen


class NotBuiltScreen(AreaScreen):
    def __init__(self, mode: str) -> None:
        super().__init__(mode)
        self.area = area(mode)

    def compose(self) -> ComposeResult:
        yield AreaHeader()
        with Middle(), Center():
            yield Static(
                f"[b]{self.area.title}[/b]  (roadmap {self.area.roadmap})\n\n{self.area.status}",
                id="not-built",
            )
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"lexitui · {self.area.title}"

"""The dashboard's Local LLM panels: local status, routing mix, savings, budgets, live requests.

The panels read the routing service through ``routing_data.read_view`` (the same store every
process writes to), so requests served by ``lexitui serve`` in another shell show up here too.
They never build the routing service themselves before the first paint: the dashboard asks for
it once the app has started, and the price tables are imported in a thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.widgets import DataTable, Static

from lexitui.ui.routing.format import (
    LIVE_COLUMNS,
    NO_REQUESTS,
    budget_text,
    live_row,
    local_text,
    mix_text,
    savings_text,
)
from lexitui.ui.text import markup_safe
from lexitui.ui.widgets.fitted_table import FittedTable

if TYPE_CHECKING:
    from lexitui.routing.local_provider import LocalProviderStatus
    from lexitui.ui.routing.data import RoutingView

LIVE_ROWS = 8


def withheld(refusal: str) -> str:
    """A panel the user's edition does not show: the refusal, not empty figures."""
    return f"[yellow]{markup_safe(refusal, 300)}[/]"


class LocalLlmPanels(Container):
    """Four small panels in a grid (two or four across) and the live requests below them."""

    def compose(self) -> ComposeResult:
        with Container(id="dash-llm"):
            yield Static(local_text(None), id="dash-local", classes="panel")
            yield Static("[b]Routing, last 24 h[/b]\nReading…", id="dash-mix", classes="panel")
            yield Static(
                "[b]Savings, last 7 days[/b]\nReading…", id="dash-savings", classes="panel"
            )
            yield Static("[b]Cloud budgets (UTC)[/b]", id="dash-budgets", classes="panel")
        with Vertical(id="dash-live", classes="panel"):
            yield Static("[b]Live requests[/b]", id="dash-live-title")
            yield FittedTable(
                flexible={"Model"}, id="dash-requests", zebra_stripes=True, cursor_type="none"
            )

    def on_mount(self) -> None:
        table = self.query_one("#dash-requests", DataTable)
        table.add_columns(*LIVE_COLUMNS)
        table.can_focus = False
        table.display = False

    def show_local(self, status: LocalProviderStatus | None) -> None:
        self.query_one("#dash-local", Static).update(local_text(status))

    def show_error(self, text: str) -> None:
        self.query_one("#dash-live-title", Static).update(f"[b]Live requests[/b]\n{text}")

    def show(self, view: RoutingView) -> None:
        mix = mix_text(view.day) if view.log_withheld is None else withheld(view.log_withheld)
        self.query_one("#dash-mix", Static).update(mix)
        saved = savings_text(view.week)
        if view.savings_withheld is not None:
            saved = withheld(view.savings_withheld)
        self.query_one("#dash-savings", Static).update(saved)
        self.query_one("#dash-budgets", Static).update(budget_text(view.budgets))
        table = self.query_one("#dash-requests", DataTable)
        table.clear()
        for record in view.recent[:LIVE_ROWS]:
            table.add_row(*live_row(record, view.at.date()), key=record.request_id)
        table.display = bool(view.recent)
        title = "[b]Live requests[/b], newest first"
        self.query_one("#dash-live-title", Static).update(
            title if view.recent else f"[b]Live requests[/b]\n{NO_REQUESTS}"
        )

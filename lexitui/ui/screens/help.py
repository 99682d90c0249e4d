"""Help: every key the app answers to, with the binding id used to remap it in the config."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static


def describe(
    bindings: Iterable[BindingType], keymap: Mapping[str, str]
) -> list[tuple[str, str, str]]:
    """(keys, description, id) rows, with keys as remapped by the user's keymap."""
    rows = []
    for binding in bindings:
        if not isinstance(binding, Binding):
            continue
        keys = keymap.get(binding.id or "", binding.key)
        rows.append((_pretty(keys), binding.description or binding.action, binding.id or "-"))
    return rows


def _pretty(keys: str) -> str:
    """``question_mark,f1`` -> ``? / f1``: what the user presses, not Textual's key names."""
    names = {"question_mark": "?", "escape": "esc", "enter": "enter"}
    return " / ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close help", id="help.close")]

    def __init__(self, sections: dict[str, list[tuple[str, str, str]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(
                "[b]Keys[/b]  (remap any of them in the config file's \\[keys] table by id)"
            )
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)
            yield Static("Esc closes this help.", classes="dim")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Where", "Key", "Does", "Id")
        for where, rows in self.sections.items():
            for keys, does, binding_id in rows:
                table.add_row(where, keys, does, binding_id)
        table.focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)

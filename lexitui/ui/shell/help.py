"""Help: every key the app answers to, with the binding id used to remap it in the config.

One section for the keys that work everywhere, then one per area (read from the area's screen,
so a new key shows here without a second list), opened at the area the user came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from lexitui.areas import AREAS, area
from lexitui.ui.shell.registry import area_bindings
from lexitui.ui.widgets.fitted_table import FittedTable


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


def help_sections(
    everywhere: Iterable[BindingType], keymap: Mapping[str, str]
) -> dict[str, list[tuple[str, str, str]]]:
    """Section title -> rows: "Everywhere", then every area in the order of its number key."""
    from lexitui.ui.hardware.settings_dialog import HardwareSettingsScreen

    sections = {"Everywhere": describe(everywhere, keymap)}
    for item in AREAS:
        rows = describe(area_bindings(item.mode), keymap)
        # An area with no keys of its own still gets its section: what it shows, how to move.
        sections[item.title] = rows or [("enter", item.status, "-")]
        if item.mode == "hardware":
            sections["HW settings"] = describe(HardwareSettingsScreen.BINDINGS, keymap)
    return sections


def _pretty(keys: str) -> str:
    """``question_mark,f1`` -> ``? / f1``: what the user presses, not Textual's key names."""
    names = {"question_mark": "?", "escape": "esc", "enter": "enter"}
    return " / ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close help", id="help.close")]

    def __init__(
        self, sections: dict[str, list[tuple[str, str, str]]], here: str | None = None
    ) -> None:
        """``here``: the mode of the area the user pressed ``?`` in; help opens at its keys."""
        super().__init__()
        self.sections = sections
        self.here = area(here).title if here else None

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(
                "[b]Keys[/b]  (remap any of them in the config file's \\[keys] table by id)"
            )
            yield FittedTable(
                flexible={"Does", "Id"}, id="help-table", cursor_type="row", zebra_stripes=True
            )
            yield Static("Esc closes this help.", classes="dim")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Where", "Key", "Does", "Id")
        for where, rows in self.sections.items():
            for keys, does, binding_id in rows:
                table.add_row(where, keys, does, binding_id)
        table.focus()
        titles = [where for where, rows in self.sections.items() for _ in rows]
        if self.here in titles:
            first = titles.index(self.here)
            table.move_cursor(row=first, animate=False)
            # The section's first row at the top, its keys below it, once the table has a size.
            self.call_after_refresh(table.scroll_to, y=first, animate=False)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)

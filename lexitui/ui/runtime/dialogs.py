"""Small dialogs of the Runtime area: the saved-conversation picker and the truncate question."""

from __future__ import annotations

from datetime import UTC, datetime

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static

from lexitui.runtime.conversations import ConversationService
from lexitui.store import StoreError
from lexitui.store.conversations import Conversation, ConversationNotFound
from lexitui.ui.runtime.format import shown
from lexitui.ui.widgets.fitted_table import FittedTable
from lexitui.ui.widgets.model_cells import ago

DIALOG_CSS = """
{name} {{
    align: center middle;
}}
{name} > Vertical {{
    width: 90;
    max-width: 95%;
    height: auto;
    max-height: 90%;
    border: $frame $primary;
    background: $surface;
    padding: 0 1;
}}
"""


class ConversationPicker(ModalScreen[int | None]):
    """Saved conversations, most recent first: Enter reopens one, ``d`` deletes it."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(name="ConversationPicker")
        + """
    #conversations-table { height: auto; max-height: 20; }
    """
    )
    BINDINGS = [
        Binding("escape", "dismiss_none", "Close", id="conversations.close"),
        Binding("d", "delete", "Delete", id="conversations.delete"),
    ]

    def __init__(self, conversations: ConversationService) -> None:
        super().__init__()
        self._conversations = conversations
        self.conversations: list[Conversation] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("[b]Saved conversations[/b]  Enter reopens · d deletes · Esc closes")
            yield FittedTable(
                flexible={"Title", "Model"},
                id="conversations-table",
                cursor_type="row",
                zebra_stripes=True,
            )
            yield Static("", id="conversations-note", classes="dim")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Title", "Model", "Messages", "Changed")
        self.reload()

    @work(exclusive=True, group="conversations")
    async def reload(self) -> None:
        try:
            self.conversations = await self._conversations.recent()
        except StoreError as exc:
            self.query_one("#conversations-note", Static).update(f"[red]{shown(str(exc))}[/]")
            return
        table = self.query_one(DataTable)
        table.clear()
        now = datetime.now(UTC)
        for c in self.conversations:
            table.add_row(
                shown(c.title or "untitled", 50), shown(c.model_id, 30), str(c.message_count),
                ago(c.updated_at, now), key=str(c.id),
            )  # fmt: skip
        note = "" if self.conversations else "No saved conversation yet: chat, and it is saved."
        self.query_one("#conversations-note", Static).update(note)
        table.focus()

    def _picked(self) -> Conversation | None:
        row = self.query_one(DataTable).cursor_row
        return self.conversations[row] if 0 <= row < len(self.conversations) else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        picked = self._picked()
        if picked is not None:
            self.dismiss(picked.id)

    @work(exclusive=True, group="conversations")
    async def action_delete(self) -> None:
        picked = self._picked()
        if picked is None:
            return
        try:
            await self._conversations.delete(picked.id)
        except (StoreError, ConversationNotFound) as exc:
            self.notify(shown(str(exc)), severity="error")
            return
        self.notify(f"Deleted “{shown(picked.title or 'untitled', 50)}”.")
        self.reload()

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class TruncateDialog(ModalScreen[int | None]):
    """How many tokens of the context to keep (the first ones: the system prompt and start)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="TruncateDialog")
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="truncate.cancel")]

    def __init__(self, used_tokens: int) -> None:
        super().__init__()
        self._used = used_tokens

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("[b]Truncate the context[/b]")
            yield Static(
                f"The context holds {self._used} tokens. Keep how many of the first ones?"
                " Enter truncates, Esc cancels."
            )
            yield Input(str(self._used // 2), type="integer", id="truncate-keep")
            yield Static("", id="truncate-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            keep = int(event.value)
        except ValueError:
            keep = -1
        if not 0 <= keep <= self._used:
            error = f"[red]Give a whole number from 0 to {self._used}.[/]"
            self.query_one("#truncate-error", Static).update(error)
            return
        self.dismiss(keep)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

"""Models: the installed models; Enter opens the chat with the highlighted one."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from lexitui.ui.screens.base import AreaScreen


class ModelsScreen(AreaScreen):
    BINDINGS = [
        Binding("c", "chat", "Chat with model", id="models.chat"),
        Binding("r", "refresh", "Refresh", id="models.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__("models")

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Installed models", classes="area-title")
        yield DataTable(id="models-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="models-empty")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lexitui · Models"
        self.query_one(DataTable).add_columns("Id", "Name", "Size", "Format", "Source")

    async def on_screen_resume(self) -> None:
        await self.ready()
        await self.action_refresh()

    async def action_refresh(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        models = await self.services.registry.list()
        for m in models:
            table.add_row(
                m.id, m.name, f"{m.size_bytes / 1e6:.1f} MB", m.format.value, m.source, key=m.id
            )
        self.query_one("#models-empty", Static).update(
            "" if models else "No models installed. `make run` installs the starter model."
        )

    async def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            await self._open_chat(event.row_key.value)

    async def action_chat(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
            if row_key.value:
                await self._open_chat(row_key.value)

    async def _open_chat(self, model_id: str) -> None:
        from lexitui.app import LexituiApp

        app = self.app
        assert isinstance(app, LexituiApp)
        await app.open_chat(model_id)

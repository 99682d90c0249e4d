"""Models: what is installed (lexitui's own and other tools' shared models), what it takes on
disk, and what could go.

A view over ``StorageManager``: the gauge shows ``storage_info()``, the table
``installed_models()`` (quantization from each file's header, usage from the runtime's
events), the panel ``cleanup_suggestions()``. On its first showing the screen rescans the
shared library (Hugging Face cache, Ollama, LM Studio) so models already on the machine appear
without a copy. Enter (or ``c``) chats with the highlighted model, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from lexitui.domain.storage import CleanupSuggestion, StoredModel, VerifyReport
from lexitui.domain.units import format_bytes
from lexitui.editions.refusals import EditionRefusal
from lexitui.events import (
    Event,
    ModelDeleted,
    ModelInstalled,
    ModelLoaded,
    ModelUnloaded,
    ModelUsageRecorded,
)
from lexitui.ui.shell.area_header import AreaHeader
from lexitui.ui.shell.area_screen import AreaScreen
from lexitui.ui.style_paths import style
from lexitui.ui.widgets.cleanup_panel import suggestions_text
from lexitui.ui.widgets.confirm_dialog import ConfirmDialog
from lexitui.ui.widgets.fitted_table import FittedTable
from lexitui.ui.widgets.model_cells import columns, detail_lines, row_cells, shown, verify_text
from lexitui.ui.widgets.path_dialog import PathDialog
from lexitui.ui.widgets.storage_gauge import StorageGauge

if TYPE_CHECKING:
    pass

# What an action reports to the user: StorageError/GgufError/InvalidModelId are ValueErrors,
# ModelNotFound a LookupError, StoreError/EngineError RuntimeErrors, file trouble OSError.
# Anything else is a bug and should show as one.
ACTION_ERRORS: tuple[type[Exception], ...] = (ValueError, LookupError, OSError, RuntimeError)
SYNC_ERRORS: tuple[type[Exception], ...] = (*ACTION_ERRORS, EditionRefusal)


class ModelsScreen(AreaScreen):
    CSS_PATH = style("models.tcss")
    AUTO_FOCUS = "#models-table"
    BINDINGS = [
        Binding("c", "chat", "Chat", id="models.chat"),
        Binding("l", "load", "Load", id="models.load"),
        Binding("v", "verify", "Verify", id="models.verify"),
        Binding("d", "delete", "Delete", id="models.delete"),
        Binding("e", "export", "Export", id="models.export"),
        Binding("s", "rescan", "Rescan library", id="models.rescan"),
        Binding("x", "clean", "Clean up", id="models.cleanup"),
        Binding("r", "refresh", "Refresh", id="models.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__("models")
        self.models: list[StoredModel] = []
        self.verified: dict[str, VerifyReport] = {}
        self._scanned = False

    def compose(self) -> ComposeResult:
        yield AreaHeader()
        yield StorageGauge(id="models-gauge")
        yield FittedTable(
            flexible={"Name", "Source"}, id="models-table", cursor_type="row", zebra_stripes=True
        )
        yield Static("", id="models-status")
        yield Static("", id="models-detail")
        yield Static("", id="models-suggestions")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lexitui · Models"
        self.query_one(DataTable).add_columns(*columns(self.app.size.width))

    async def on_screen_resume(self) -> None:
        services = await self.ready()
        # Each of these is published once its write has committed: what is read now is current.
        self.watch_stream(services.bus.of(ModelInstalled, ModelDeleted), self._on_installed)
        self.watch_stream(services.bus.of(ModelLoaded), self._on_used)
        self.watch_stream(services.bus.of(ModelUnloaded), self._on_used)
        self.watch_stream(services.bus.of(ModelUsageRecorded), self._on_used)
        if not self._scanned:
            self._scanned = True
            self.action_rescan()
        else:
            self.action_refresh()

    def _on_installed(self, _event: Event) -> None:
        self.action_refresh()

    def _on_used(self, event: ModelLoaded | ModelUnloaded | ModelUsageRecorded) -> None:
        # A load stamps "last used" before it is announced; its use count and time follow as
        # ModelUsageRecorded once written. Either way only that model's row changes.
        self.run_worker(
            self._refresh_row(event.model_id),
            group=f"models-row-{event.model_id}",
            exclusive=True,
        )

    # -- reading ---------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.services.storage.now()

    @work(exclusive=True, group="models-refresh")
    async def action_refresh(self) -> None:
        manager = (await self.ready()).storage
        try:
            self.models = await manager.installed_models()
            self._fill_table()
            self.query_one(StorageGauge).info = await manager.storage_info()
            self._show_suggestions(None)
            self._show_suggestions(await manager.cleanup_suggestions())
        except ACTION_ERRORS as exc:  # the store or the disk failing: say so, keep the screen
            self._status(f"[red]Cannot read the model store:[/red] {shown(str(exc))}")

    async def _refresh_row(self, model_id: str) -> None:
        """Read one model again and rewrite its row; the suggestions follow (they weigh use)."""
        manager = (await self.ready()).storage
        try:
            model = await manager.installed_model(model_id)
            suggestions = await manager.cleanup_suggestions()
        except ACTION_ERRORS:  # gone meanwhile (not listed, or deleted), or the store failed
            return
        ids = [m.id for m in self.models]
        if model_id not in ids:  # not listed yet: the next refresh brings it
            return
        self.models[ids.index(model_id)] = model
        table = self.query_one(DataTable)
        cells = row_cells(model, self.now(), self.app.size.width)
        for column, value in zip(table.ordered_columns, cells, strict=False):
            table.update_cell(model_id, column.key, value, update_width=True)
        self._show_suggestions(suggestions)
        self._show_detail()

    def _fill_table(self) -> None:
        table = self.query_one(DataTable)
        keep = self.selected()
        table.clear()
        now = self.now()
        width = self.app.size.width
        for model in self.models:
            table.add_row(*row_cells(model, now, width), key=model.id)
        if keep is not None and keep.id in {m.id for m in self.models}:
            table.move_cursor(row=[m.id for m in self.models].index(keep.id))
        if not self.models:
            self._status("No models yet: Discover (4) downloads one, `lexitui import` adds a file.")
        self._show_detail()

    def _show_suggestions(self, suggestions: Sequence[CleanupSuggestion] | None) -> None:
        panel = self.query_one("#models-suggestions", Static)
        limit = 5 if self.app.size.height >= 30 else 2
        panel.update(suggestions_text(suggestions, limit))

    def selected(self) -> StoredModel | None:
        table = self.query_one(DataTable)
        if not self.models or table.cursor_row >= len(self.models):
            return None
        return self.models[table.cursor_row]

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        model = self.selected()
        detail = self.query_one("#models-detail", Static)
        if model is None:
            detail.update("")
            return
        width = max(20, self.app.size.width - 2)
        lines = detail_lines(model, self.now(), self.verified.get(model.id), width)
        detail.update("\n".join(lines))  # cut, not wrapped (models.tcss): lines keep their place

    def _status(self, markup: str) -> None:
        self.query_one("#models-status", Static).update(markup)

    # -- actions ---------------------------------------------------------------------------

    @work(exclusive=True, group="models-rescan")
    async def action_rescan(self) -> None:
        manager = (await self.ready()).storage
        self._status("Scanning the shared library (HF cache, Ollama, LM Studio)…")
        try:
            synced = await manager.sync_library()
        except ACTION_ERRORS as exc:  # the store failing (StoreError is a RuntimeError)
            self._status(f"[red]Library scan failed:[/red] {shown(str(exc))}")
            return
        found = len(synced.scan.models)
        parts = [f"Shared library: {found} found"]
        if synced.added or synced.removed:
            parts.append(f"{len(synced.added)} added, {len(synced.removed)} removed")
        skipped = [*synced.scan.skipped, *synced.skipped]
        if skipped:
            parts.append(f"{len(skipped)} skipped ({shown(skipped[0].reason, 60)}…)")
        parts.extend(await self._sync_other_hosts())
        self._status(" · ".join(parts) + "  [dim](s rescans)[/dim]")
        self.action_refresh()

    async def _sync_other_hosts(self) -> list[str]:
        """Models other hosts put in a store shared with this one, sha256-checked (the same
        tier as the library scan, which has just been allowed)."""
        try:
            hosts = await self.services.storage.sync_shared_store()
        except SYNC_ERRORS as exc:
            return [f"[red]other hosts' models:[/red] {shown(str(exc), 60)}"]
        parts = [f"{len(hosts.registered)} from other hosts"] if hosts.registered else []
        for refused in hosts.refused[:1]:
            parts.append(
                f"[red]refused {shown(refused.model_id)}:[/red] {shown(refused.reason, 60)}"
            )
        return parts

    async def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            await self._open_chat(event.row_key.value)

    async def action_chat(self) -> None:
        model = self.selected()
        if model is not None:
            await self._open_chat(model.id)

    async def _open_chat(self, model_id: str) -> None:
        from lexitui.ui.app import LexituiApp

        app = self.app
        assert isinstance(app, LexituiApp)
        await app.open_chat(model_id)

    @work(exclusive=True, group="models-load")
    async def action_load(self) -> None:
        model = self.selected()
        if model is None:
            return
        services = await self.ready()
        self.notify(f"Loading {shown(model.id)}…")
        try:
            await services.runtime.load(model.id)
        except ACTION_ERRORS as exc:
            self.notify(shown(str(exc)), severity="error", title="load")
            return
        self.notify(f"{shown(model.id)} is loaded (c chats with it).")

    @work(exclusive=True, group="models-verify")
    async def action_verify(self) -> None:
        model = self.selected()
        if model is None:
            return
        manager = (await self.ready()).storage
        self._status(f"Verifying {shown(model.id)} ({format_bytes(model.size_bytes)} to hash)…")
        try:
            report = await manager.verify_model(model.id)
        except ACTION_ERRORS as exc:  # deleted meanwhile (another terminal), or the store failed
            self._status(f"[red]Cannot verify:[/red] {shown(str(exc))}")
            return
        self.verified[model.id] = report
        self._status(verify_text(report))
        self._show_detail()

    @work(exclusive=True, group="models-delete")
    async def action_delete(self) -> None:
        model = self.selected()
        if model is None:
            return
        manager = (await self.ready()).storage
        if model.shared:
            title = f"Forget {shown(model.id)}?"
            body = (
                f"The file belongs to {shown(model.model.source)} and stays where it is; "
                "lexitui only stops listing it (a rescan will not bring it back):\n"
                f"{shown(model.model.path, 300)}"
            )
            label = "Forget"
        else:
            try:
                freed = await manager.freeable_bytes(model.id)
            except ACTION_ERRORS as exc:  # deleted meanwhile, from another terminal
                self.notify(shown(str(exc)), severity="error", title="delete")
                return
            title = f"Delete {shown(model.id)}?"
            body = f"Its files leave lexitui's store, freeing {format_bytes(freed)}."
            label = "Delete"
        if not await self.app.push_screen_wait(ConfirmDialog(title, body, label)):
            return
        try:
            result = await manager.delete_model(model.id)
        except ACTION_ERRORS as exc:
            self.notify(shown(str(exc)), severity="error", title="delete")
            return
        done = "Forgot" if result.forgot_only else "Deleted"
        self.notify(f"{done} {shown(model.id)}; freed {format_bytes(result.freed_bytes)}.")
        self.action_refresh()

    @work(exclusive=True, group="models-export")
    async def action_export(self) -> None:
        model = self.selected()
        if model is None:
            return
        manager = (await self.ready()).storage
        hint = "A folder (the file keeps its name) or a new file name. Enter exports, Esc cancels."
        answer = await self.app.push_screen_wait(
            PathDialog(f"Export {shown(model.id)}", hint, "~/")
        )
        if not answer:
            return
        self._status(f"Exporting {shown(model.id)}…")
        try:
            written = await manager.export_model(model.id, answer)  # "DIR/" means a folder
        except ACTION_ERRORS as exc:
            self._status("")
            self.notify(shown(str(exc)), severity="error", title="export")
            return
        self._status(f"Exported to {shown(str(written[0]), 200)}")

    @work(exclusive=True, group="models-clean")
    async def action_clean(self) -> None:
        manager = (await self.ready()).storage
        try:
            result = await manager.cleanup()
        except ACTION_ERRORS as exc:
            self._status(f"[red]Clean-up failed:[/red] {shown(str(exc))}")
            return
        kept = f"; {len(result.in_use)} partials in use kept" if result.in_use else ""
        self._status(
            f"Cleaned up {len(result.deleted_files)} stale files, "
            f"{format_bytes(result.freed_bytes)}{kept}"
        )
        self.action_refresh()

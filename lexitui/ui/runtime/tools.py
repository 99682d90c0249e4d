"""The Runtime area's context and tool actions: snapshots, truncation, the benchmark, the
embeddings tester, the engine log, and copying or exporting the chat.

A base of ``RuntimeScreen`` (kept apart so each file stays small); it calls back into the
screen's status line, gauge and profile. The benchmark shares the model's slot with the chat, so
it runs inside ``ContextManager.preserved`` (the chat's context is saved and put back) with a
progress bar, and the chat waits meanwhile. A truncation marks the messages it dropped.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.widgets import ProgressBar

from lexitui.domain.inference import ContextSnapshot, LocalGenerationRequest
from lexitui.domain.units import format_bytes
from lexitui.runtime.chat_export import (
    ChatExport,
    ExportError,
    ExportFormat,
    default_name,
    export_chat,
    exports_dir,
)
from lexitui.ui.runtime.format import bench_text, shown
from lexitui.ui.runtime.params import ParamsPanel
from lexitui.ui.shell.area_screen import AreaScreen

if TYPE_CHECKING:
    from textual.worker import Worker

    from lexitui.ui.runtime.chat import ChatPane
    from lexitui.ui.runtime.models import LoadedModelsTable


class RuntimeTools(AreaScreen):
    _last_model: str | None = None

    if TYPE_CHECKING:  # provided by RuntimeScreen

        @property
        def table(self) -> LoadedModelsTable: ...

        @property
        def chat(self) -> ChatPane: ...

        def _state(self, text: str, *, error: bool = False) -> None: ...

        def refresh_models(self) -> None: ...

        def refresh_profile(self) -> Worker[None]: ...

    # --- context -----------------------------------------------------------------------------

    def action_save_snapshot(self) -> None:
        self._context_job("save")

    def action_restore_snapshot(self) -> None:
        from lexitui.ui.runtime.snapshots import SnapshotPicker

        active = self.services.runtime.active_model
        if active is None:
            self._state("Load a model first: a snapshot restores into the model that saved it.")
            return

        def picked(snapshot: ContextSnapshot | None) -> None:
            if snapshot is not None:
                self._context_job("restore", snapshot=snapshot)

        self.app.push_screen(SnapshotPicker(active.model.id, active.model.name), picked)

    def action_truncate(self) -> None:
        from lexitui.ui.runtime.dialogs import TruncateDialog

        active = self.services.runtime.active_model
        if active is None:
            self._state("Load a model first: there is no context to truncate.")
            return
        if self.chat.generating:
            self._state("An answer is streaming: Esc stops it, then t truncates.")
            return
        used = self.services.context.status(active.id).used_tokens

        def keep(tokens: int | None) -> None:
            if tokens is not None:
                self._context_job("truncate", keep=tokens)

        self.app.push_screen(TruncateDialog(used), keep)

    @work(exclusive=True, group="runtime-context")
    async def _context_job(
        self, what: str, *, snapshot: ContextSnapshot | None = None, keep: int = 0
    ) -> None:
        context = (await self.ready()).context
        try:
            if what == "save":
                label = self.chat.conversation.title if self.chat.conversation else ""
                saved = await context.save_snapshot(label=label)
                size = format_bytes(saved.size_bytes)
                self.notify(f"Saved the context: {saved.token_count} tokens, {size}.")
            elif what == "restore" and snapshot is not None:
                status = await context.restore_snapshot(snapshot)
                self.notify(f"Restored the context: {status.used_tokens} tokens.")
            elif what == "truncate":
                await self._truncate(keep)
            elif what == "clear":
                await context.clear()
        except Exception as exc:  # engine gone, snapshot missing, store error: say which
            self._state(f"[red]Context {what} failed:[/] {shown(str(exc))}", error=True)
        self.refresh_models()

    async def _truncate(self, keep: int) -> None:
        """Truncate the context, then mark the chat's messages that are no longer in it."""
        context = self.services.context
        before = (await context.sync()).used_tokens
        status = await context.truncate(keep)
        dropped = 0
        if status.used_tokens < before:
            system = self.query_one(ParamsPanel).system_prompt or None
            request = LocalGenerationRequest(
                messages=tuple(self.chat.history), system_prompt=system
            )
            kept = await context.messages_within(request, status.used_tokens)
            dropped = await self.chat.drop_after(kept, status.used_tokens)
        said = f"{dropped} message{'' if dropped == 1 else 's'}" if dropped else "no message"
        self.notify(f"Truncated the context to {status.used_tokens} tokens ({said} dropped).")

    def on_chat_pane_stopped(self, _message: object) -> None:
        self._sync_context()

    @work(group="runtime-sync")
    async def _sync_context(self) -> None:
        """A stopped answer: count what the context holds now, so the gauge is not stale."""
        try:
            await (await self.ready()).context.sync()
        except Exception as exc:  # the engine went away meanwhile: the table says so
            self._state(f"[red]Could not read the context:[/] {shown(str(exc))}", error=True)
        self.refresh_models()

    # --- measuring and tools -------------------------------------------------------------------

    @work(group="runtime-bench")  # not exclusive: a second b must not cancel a running bench
    async def action_bench(self) -> None:
        services = await self.ready()
        active = services.runtime.active_model
        if active is None:
            self._state("Load a model first: the benchmark runs on the active model.")
            return
        if self.chat.busy:
            self.notify("The benchmark is already running.")
            return
        if self.chat.generating:
            self._state("An answer is streaming: Esc stops it, then b benchmarks.")
            return
        name = shown(active.model.id, 40)
        bar = self.query_one("#runtime-bench", ProgressBar)

        def step(done: int, total: int, what: str) -> None:
            bar.update(total=total, progress=done)
            if done < total:
                self._state(f"Benchmarking {name}: step {done + 1} of {total}, {shown(what, 48)}")

        bar.display = True
        self.chat.busy = "The benchmark is running: the chat waits until it ends."
        try:
            async with services.context.preserved(active.id):
                report = await services.profiler.bench(active.id, progress=step)
        except Exception as exc:  # the engine can die or be unloaded meanwhile
            self._state(f"[red]Benchmark failed:[/] {shown(str(exc))}", error=True)
            return
        finally:
            bar.display = False
            self.chat.busy = None
            self.refresh_models()
        self._state(bench_text(report) + " · the chat's context is kept")
        self.refresh_profile()

    def action_embeddings(self) -> None:
        from lexitui.ui.runtime.embed import EmbeddingsTester

        self.app.push_screen(EmbeddingsTester())

    def action_engine_log(self) -> None:
        from lexitui.ui.backends.engine_log import EngineLogScreen

        loaded = self.table.highlighted or self.services.runtime.active_model
        model_id = loaded.model.id if loaded else self._last_model
        if model_id is None:
            self.notify("Load a model first: each model has its own engine log.")
            return
        self.app.push_screen(EngineLogScreen(self.services.runtime.log_path(model_id)))

    # --- copy and export -----------------------------------------------------------------------

    def action_copy_message(self) -> None:
        """Copy the selected message (the last one when none is) to the terminal's clipboard."""
        turn = self.chat.chat_log.selected_or_last()
        if turn is None or not turn.message.content:
            self.notify("Nothing to copy yet: send a message first.")
            return
        self.app.copy_to_clipboard(turn.message.content)
        who = "your message" if turn.label is None else f"the answer of {turn.speaker}"
        self.notify(f"Copied {who} ({len(turn.message.content)} characters).", markup=False)

    def action_export(self, fmt: ExportFormat = "markdown") -> None:
        """Ask where to write the chat (a default name in the exports folder), then write it."""
        from lexitui.ui.runtime.export import ExportDialog

        chat = self._transcript()
        if not chat.messages:
            self.notify("Nothing to export yet: send a message first.")
            return
        folder = exports_dir(self.services.paths)
        suggested = folder / default_name(chat, fmt, datetime.now(UTC))

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._write_export(path, folder)

        self.app.push_screen(ExportDialog(suggested), chosen)

    def _transcript(self) -> ChatExport:
        active = self.services.runtime.active_model
        system = self.query_one(ParamsPanel).system_prompt
        return self.chat.transcript(active.model.id if active else "", system)

    @work(group="runtime-export")
    async def _write_export(self, path: Path, folder: Path) -> None:
        chat = self._transcript()
        try:
            written = await asyncio.to_thread(export_chat, chat, path, folder)
        except ExportError as exc:
            self._state(f"[red]Not exported:[/] {shown(str(exc), 300)}", error=True)
            return
        self._state(f"Exported the chat ({len(chat.messages)} messages) to {shown(str(written))}")

"""Runtime: the models loaded in the embedded engine, a chat with the active one, its context.

A thin view over ``InferenceManager`` (``services.runtime``), the context manager and the
profiler: the table lists every load and refreshes on the inference event stream; the chat pane
streams answers from the active model; the gauge is read again after every answer, clear,
truncate and restore, and the profile line whenever the store says ``model_performance``
changed; the alert line shows the resource monitor's standing alerts (memory low), read again on
each sample of its stream, and the table's RAM column follows those samples too. Nothing here
runs on a timer of its own. Loading, unloading, snapshots and the benchmark run in workers, and
every failure lands in the status line: an engine that dies mid-answer is reported there and in
the chat's stats line, and the screen stays usable for the next load.

Number keys switch areas whenever the chat input is not focused: the screen opens on the table
when nothing is loaded, and Esc leaves the input. Snapshots, truncation, the benchmark, copying
and exporting live in ``RuntimeTools``, this screen's base.
"""

from __future__ import annotations

import contextlib
from functools import cached_property
from typing import Any

from reactivex import Observable
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Input, ProgressBar, Select, Static, TextArea

from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.inference import LocalGenerationRequest
from lexitui.domain.resources import InferenceResourceUsage
from lexitui.events import Event, ModelLoadStarted, ModelUnloaded
from lexitui.runtime.errors import ModelDoesNotFit, NoModelLoaded
from lexitui.ui.runtime.alerts import ResourceAlertLine
from lexitui.ui.runtime.chat import ChatPane
from lexitui.ui.runtime.commands import RuntimeCommands
from lexitui.ui.runtime.format import (
    context_gauge,
    event_text,
    profile_text,
    shown,
)
from lexitui.ui.runtime.models import LoadedModelsTable
from lexitui.ui.runtime.params import ParamsPanel
from lexitui.ui.runtime.routed import can_answer, chat_placeholder
from lexitui.ui.runtime.tools import RuntimeTools
from lexitui.ui.shell.area_header import AreaHeader
from lexitui.ui.streams import at_most_every, changes_of
from lexitui.ui.style_paths import style

REFRESH_S = 2.0  # the table's RAM column follows the engines' resident memory at most this often
PROFILE_S = 0.3  # the profile line is read again at most this often, once the profiler wrote


class RuntimeScreen(RuntimeTools):
    CSS_PATH = style("runtime.tcss")
    COMMANDS = {RuntimeCommands}
    BINDINGS = [
        Binding("L", "load", "Load model", id="runtime.load"),
        Binding("u", "unload", "Unload", id="runtime.unload"),
        Binding("escape", "stop", "Stop / leave input", id="runtime.stop"),
        Binding("ctrl+r", "regenerate", "Regenerate", id="runtime.regenerate"),
        Binding("ctrl+l", "clear", "Clear chat", id="runtime.clear"),
        Binding("p", "params", "Parameters", id="runtime.params"),
        Binding("s", "save_snapshot", "Save context", id="runtime.snapshot_save"),
        Binding("r", "restore_snapshot", "Restore context", id="runtime.snapshot_restore"),
        Binding("b", "bench", "Benchmark", id="runtime.bench"),
        Binding("o", "open_conversation", "Saved chats", id="runtime.open"),
        # Still listed in the help screen; the footer keeps room for the keys above.
        Binding("a", "activate", "Make active", id="runtime.activate", show=False),
        Binding("i", "focus_input", "Type a message", id="runtime.input", show=False),
        Binding("n", "new_conversation", "New chat", id="runtime.new", show=False),
        Binding("t", "truncate", "Truncate context", id="runtime.truncate", show=False),
        Binding("e", "embeddings", "Embeddings", id="runtime.embeddings", show=False),
        Binding("f2", "engine_log", "Engine log", id="runtime.engine_log", show=False),
        Binding("c", "copy_message", "Copy message", id="runtime.copy", show=False),
        Binding("x", "export", "Export chat", id="runtime.export", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(name="runtime")
        # The model last asked for: its engine log is the one f2 shows when nothing is loaded.
        self._last_model: str | None = None

    def compose(self) -> ComposeResult:
        yield AreaHeader()
        yield LoadedModelsTable(id="runtime-models")
        yield Static("Nothing loaded: L loads a model.", id="runtime-state")
        yield ResourceAlertLine(id="runtime-alerts")
        yield ProgressBar(show_eta=False, id="runtime-bench")
        yield Static(context_gauge(None), id="runtime-context")
        yield Static(profile_text(None, None), id="runtime-profile")
        with Horizontal(id="runtime-body"):
            yield ChatPane(self._request_for, id="runtime-chat")
            yield ParamsPanel(id="runtime-params")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lexitui · Runtime"
        self.query_one(ParamsPanel).display = False
        self.query_one("#runtime-bench").display = False

    async def on_screen_resume(self) -> None:
        await self.ready()
        self.watch_stream(self.services.bus.inference, self._on_event)
        self.watch_stream(self.services.resources.updates, self._on_resources)
        self.watch_stream(self._table_reads, self._on_sampled)
        self.watch_stream(self._profile_reads, self._on_profile_changed)
        self.refresh_alerts()
        self.refresh_models()
        self.refresh_profile()
        # Resumed after a dialog or another area, focus stays where the user left it.
        if self.focused is None:
            self.table.focus()

    @property
    def table(self) -> LoadedModelsTable:
        return self.query_one(LoadedModelsTable)

    @property
    def chat(self) -> ChatPane:
        return self.query_one(ChatPane)

    def _request_for(self, messages: tuple[LocalChatMessage, ...]) -> LocalGenerationRequest:
        return self.query_one(ParamsPanel).request(messages)

    def _state(self, text: str, *, error: bool = False) -> None:
        state = self.query_one("#runtime-state", Static)
        state.update(text)
        state.set_class(error, "error")

    # --- what is loaded ----------------------------------------------------------------------

    def _on_resources(self, _usage: InferenceResourceUsage) -> None:
        self.refresh_alerts()

    def refresh_alerts(self) -> None:
        """The resource alerts standing now (memory low, a hot GPU), from the monitor."""
        self.query_one(ResourceAlertLine).show(self.services.resources.standing_alerts())

    @cached_property
    def _table_reads(self) -> Observable[Any]:
        """The resource sampler's samples (taken while a model is loaded), at most every
        ``REFRESH_S``: each carries the engines' resident memory the table shows."""
        return at_most_every(REFRESH_S, self.services.resources.updates)

    @cached_property
    def _profile_reads(self) -> Observable[Any]:
        """The profiler records an answer in a task of its own: its commit is the cue."""
        return at_most_every(PROFILE_S, changes_of(self.services.bus, {"model_performance"}))

    def _on_sampled(self, _usage: object) -> None:
        self.refresh_models()

    def _on_profile_changed(self, _event: object) -> None:
        self.refresh_profile()

    def refresh_models(self) -> None:
        """The table and the context gauge, from the runtime as it is now."""
        runtime = self.services.runtime
        active = runtime.active_model
        self.table.show(runtime.loaded_models(), active.id if active else None)
        status = None
        if active is not None:
            try:
                status = self.services.context.status(active.id)
            except NoModelLoaded:  # unloaded between the two reads
                status = None
        self.query_one("#runtime-context", Static).update(context_gauge(status))
        self.query_one("#chat-input", Input).placeholder = chat_placeholder(
            active.model.id if active else None,
            self.services.built("routing") and can_answer(self.services.routing),
        )

    @work(exclusive=True, group="runtime-profile")
    async def refresh_profile(self) -> None:
        services = await self.ready()
        active = services.runtime.active_model
        model_id = active.model.id if active else None
        try:
            perf = await services.profiler.stats(model_id) if model_id else None
        except Exception as exc:  # a store failure leaves the rest of the screen working
            self.query_one("#runtime-profile", Static).update(f"[red]Profile:[/] {shown(str(exc))}")
            return
        self.query_one("#runtime-profile", Static).update(profile_text(model_id, perf))

    def _on_event(self, event: Event) -> None:
        if isinstance(event, ModelLoadStarted | ModelUnloaded):
            self._last_model = event.model_id
        said = event_text(event)
        if said is not None:
            text, failed = said
            self._state(text, error=failed)
            if isinstance(event, ModelUnloaded) and failed:  # the engine died
                self.chat.say(text, error=True)
        self.refresh_alerts()  # an unload that pauses the sampler clears them
        self.refresh_models()
        self.refresh_profile()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table is self.table:
            self.action_activate()

    def action_activate(self) -> None:
        picked = self.table.highlighted
        if picked is None:
            self._state("Nothing loaded: L loads a model.")
            return
        try:
            self.services.runtime.set_active(picked.id)
        except NoModelLoaded as exc:
            self._state(f"[red]{shown(str(exc))}[/]", error=True)
        else:
            self._state(f"{shown(picked.model.id)} is the active model: the chat talks to it.")
            self.query_one("#chat-input", Input).focus()
        self.refresh_models()
        self.refresh_profile()

    @work(exclusive=True, group="runtime-unload")
    async def action_unload(self) -> None:
        picked = self.table.highlighted
        if picked is None:
            return
        # NoModelLoaded: the engine went away by itself meanwhile; the table refresh says so.
        with contextlib.suppress(NoModelLoaded):
            await self.services.runtime.unload(picked.id)
        self.refresh_models()

    async def action_load(self) -> None:
        from lexitui.services.edition_usage import loaded_models
        from lexitui.ui.runtime.load_dialog import LoadChoice, LoadModelDialog

        services = await self.ready()
        models = [(m.id, m.name) for m in await services.registry.list()]
        picked = self.table.highlighted  # loading it again, with other options, is common
        preselected = picked.model.id if picked else None

        def chosen(choice: LoadChoice | None) -> None:
            if choice is not None:
                self.load_model(choice.model_id, choice.options, evict=choice.evict)

        limit = loaded_models(services)  # the edition's one-model limit, said beside Load
        self.app.push_screen(LoadModelDialog(models, preselected, limit=limit), chosen)

    def pick_model(self, model_id: str) -> None:
        """Chat with ``model_id``: make it active if it is loaded, else load it as it comes."""
        for loaded in self.services.runtime.loaded_models():
            if loaded.model.id == model_id:
                self.services.runtime.set_active(loaded.id)
                self.refresh_models()
                self.query_one("#chat-input", Input).focus()
                return
        self.load_model(model_id, None)

    @work(exclusive=True, group="runtime-load")
    async def load_model(
        self, model_id: str, options: ModelLoadOptions | None, evict: bool = False
    ) -> None:
        from lexitui.ui.runtime.evict_dialog import ConfirmEvictDialog

        runtime = (await self.ready()).runtime
        self._last_model = model_id
        while True:
            try:
                await runtime.load(model_id, options, evict=evict or None)
            except ModelDoesNotFit as exc:
                if not exc.evictable or evict:
                    self._state(f"[red]{shown(str(exc))}[/]", error=True)
                    return
                if not await self.app.push_screen_wait(ConfirmEvictDialog(str(exc), exc.evictable)):
                    self._state(f"Not loaded: {shown(str(exc))}")
                    return
                evict = True
                continue
            except Exception as exc:  # any load failure is shown; the app keeps running
                text = f"[red]Could not load {shown(model_id)}:[/] {shown(str(exc))}"
                self._state(text, error=True)
                return
            break
        self.refresh_models()
        self.refresh_profile()
        self.query_one("#chat-input", Input).focus()

    # --- the chat ----------------------------------------------------------------------------

    def on_chat_pane_answered(self, _message: ChatPane.Answered) -> None:
        self.refresh_models()

    def on_chat_pane_reopened(self, message: ChatPane.Reopened) -> None:
        self.query_one(ParamsPanel).system_prompt = message.conversation.system_prompt
        active = self.services.runtime.active_model
        if active is None or active.model.id != message.conversation.model_id:
            self._state(
                f"This chat was with {shown(message.conversation.model_id)}: it goes on with the"
                " active model (L loads another)."
            )

    def action_stop(self) -> None:
        """Esc stops a running answer; otherwise it leaves a text field (number keys then
        switch areas again)."""
        if self.chat.stop():
            return
        if isinstance(self.focused, Input | TextArea | Select):
            self.table.focus()

    def action_focus_input(self) -> None:
        self.query_one("#chat-input", Input).focus()

    async def action_regenerate(self) -> None:
        await self.chat.regenerate()

    async def action_clear(self) -> None:
        await self.chat.clear()
        if self.services.runtime.active_model is not None:
            self._context_job("clear")

    async def action_new_conversation(self) -> None:
        await self.chat.clear()
        self._state("New conversation: it is saved once you send a message.")

    def action_open_conversation(self) -> None:
        from lexitui.ui.runtime.dialogs import ConversationPicker

        def picked(conversation_id: int | None) -> None:
            if conversation_id is not None:
                self.run_worker(self.chat.reopen(conversation_id), group="runtime-reopen")

        self.app.push_screen(ConversationPicker(self.chat.conversations), picked)

    def action_params(self) -> None:
        panel = self.query_one(ParamsPanel)
        panel.display = not panel.display
        if panel.display:
            panel.query_one("#param-system", Input).focus()
        elif self.focused is None or panel in self.focused.ancestors:
            self.table.focus()

"""Chat (the Runtime area): pick a model, talk to it, watch tokens stream in.

Tokens go to ``Markdown.get_stream`` (batched re-renders) rather than a re-render per token. Esc
cancels the generation worker, which closes the HTTP stream and makes the engine stop. After each
answer the status line shows the measured figures.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Input, Markdown, Select, Static

from lexitui.domain.enums import ChatRole
from lexitui.events import Event, ModelUnloaded
from lexitui.runtime.chat import ChatFinished, ChatMessage, TokenDelta
from lexitui.ui.screens.base import AreaScreen

GENERATION = "generation"


class ChatScreen(AreaScreen):
    BINDINGS = [
        Binding("escape", "stop", "Stop / leave input", id="chat.stop"),
        Binding("i", "focus_input", "Type", id="chat.input"),
        Binding("ctrl+l", "clear", "Clear chat", id="chat.clear"),
        Binding("ctrl+u", "unload", "Unload model", id="chat.unload"),
        Binding("f2", "engine_log", "Engine log", id="chat.engine_log"),
    ]

    def __init__(self) -> None:
        super().__init__(name="runtime")
        self.history: list[ChatMessage] = []
        # The model asked for (from the Models area or the palette) before this screen composed.
        self._wanted: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="chat-top"):
            yield Select[str]([], prompt="Pick a model", id="model-select")
            yield Static("No model loaded", id="chat-state")
        yield VerticalScroll(id="chat-log")
        yield Static("", id="chat-stats")
        yield Input(placeholder="Pick a model first, then type and press Enter", id="chat-input")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lexitui · Chat"

    async def on_screen_resume(self) -> None:
        await self.ready()
        self.watch_stream(self.services.bus.inference, self._on_event)
        models = await self.services.registry.list()
        select = self.query_one("#model-select", Select)
        select.set_options([(m.name, m.id) for m in models])
        loaded = self.services.runtime.loaded_model
        wanted = self._wanted or (loaded.id if loaded else None)
        if wanted:
            with select.prevent(Select.Changed):
                select.value = wanted
        if loaded:
            self.query_one("#chat-input", Input).focus()
        else:
            # Not the input: number keys must still switch areas until the user starts typing.
            select.focus()

    def pick_model(self, model_id: str) -> None:
        self._wanted = model_id
        self.load_model(model_id)

    def on_select_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self._wanted:
            self.pick_model(event.value)

    @work(exclusive=True, group="load")
    async def load_model(self, model_id: str) -> None:
        runtime = (await self.ready()).runtime
        if runtime.loaded_model and runtime.loaded_model.id == model_id:
            self._set_state(f"Ready: {model_id}")
            return
        self._set_state(f"Loading {model_id}…")
        try:
            model = await runtime.load(model_id)
        except Exception as exc:  # any load failure is shown; the app keeps running
            self._set_state(f"[red]Could not load {model_id}:[/] {exc}", error=True)
            return
        self._set_state(f"Ready: {model.name}")
        chat_input = self.query_one("#chat-input", Input)
        chat_input.placeholder = "Type a message and press Enter (Esc leaves the input)"
        chat_input.focus()

    def _set_state(self, text: str, error: bool = False) -> None:
        state = self.query_one("#chat-state", Static)
        state.update(text)
        state.set_class(error, "error")

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        prompt = event.value.strip()
        if not prompt:
            return
        if self.services.runtime.loaded_model is None:
            self._set_state("[yellow]Pick a model first (the list above).[/]", error=True)
            return
        event.input.value = ""
        self.history.append(ChatMessage(ChatRole.USER, prompt))
        log = self.query_one("#chat-log", VerticalScroll)
        await log.mount(Static(f"[b]You:[/b] {prompt}", classes="user-message"))
        answer = Markdown("", classes="assistant-message")
        await log.mount(answer)
        log.scroll_end(animate=False)
        self.generate(answer)

    @work(exclusive=True, group=GENERATION)
    async def generate(self, answer: Markdown) -> None:
        stats = self.query_one("#chat-stats", Static)
        stats.update("Generating… (Esc stops)")
        stream = Markdown.get_stream(answer)
        parts: list[str] = []
        log = self.query_one("#chat-log", VerticalScroll)
        try:
            async for piece in self.services.runtime.chat(self.history):
                if isinstance(piece, TokenDelta):
                    parts.append(piece.text)
                    await stream.write(piece.text)
                    log.scroll_end(animate=False)
                elif isinstance(piece, ChatFinished):
                    stats.update(
                        f"{piece.completion_tokens} tokens · {piece.tokens_per_second:.1f} tok/s"
                        f" · TTFT {piece.ttft_ms:.0f} ms"
                    )
        except Exception as exc:  # the engine can die mid-answer; say so and keep going
            stats.update(f"[red]Generation failed:[/] {exc}")
        finally:
            await stream.stop()
            if parts:
                self.history.append(ChatMessage(ChatRole.ASSISTANT, "".join(parts)))

    def action_stop(self) -> None:
        """Esc stops a running answer; otherwise it leaves the input so number keys switch areas."""
        if self.workers_in_group(GENERATION):
            self.workers.cancel_group(self, GENERATION)
            self.query_one("#chat-stats", Static).update("Stopped.")
        else:
            self.query_one("#chat-log", VerticalScroll).focus()

    def action_focus_input(self) -> None:
        self.query_one("#chat-input", Input).focus()

    def workers_in_group(self, group: str) -> bool:
        return any(w.group == group and not w.is_finished for w in self.workers)

    async def action_clear(self) -> None:
        self.history.clear()
        await self.query_one("#chat-log", VerticalScroll).remove_children()
        self.query_one("#chat-stats", Static).update("")

    def action_engine_log(self) -> None:
        from lexitui.ui.screens.engine_log import EngineLogScreen

        picked = self.query_one("#model-select", Select).value
        model_id = self._wanted or (picked if isinstance(picked, str) else None)
        if model_id is None:
            self.notify("Pick a model first: each model has its own engine log.")
            return
        self.app.push_screen(EngineLogScreen(self.services.runtime.log_path(model_id)))

    async def action_unload(self) -> None:
        await self.services.runtime.unload()
        self.query_one("#model-select", Select).clear()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, ModelUnloaded):
            error = event.reason.startswith("engine exited")
            self._set_state(f"Model unloaded: {event.reason}", error=error)

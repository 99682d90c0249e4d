"""The Runtime area's chat pane: the messages, a live stats line and the input.

Requests go through the router (source ``tui``; ``routed.py`` says how), so they are recorded,
and a cloud provider answers when no model is loaded. Answers stream into
``Markdown.get_stream`` (batched re-renders) rather than a re-render per token. Esc cancels the
generation worker; the router's stream is closed with ``aclosing``, which closes the engine's
HTTP stream at once and makes it stop decoding. Each message is saved to the store as
soon as it is complete (a stopped answer too: it is what the user saw), so a chat can be reopened
after a restart. The pane reports finished answers with ``Answered`` and stopped ones with
``Stopped`` so the screen refreshes the context gauge, the table and the profile. Each message is
a ``ChatTurn`` under its speaker's name; ``transcript()`` is the chat as exported.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import TYPE_CHECKING, TypeVar

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Markdown, Static

from lexitui.config import ConfigError
from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.domain.inference import InvalidRequest, LocalGenerationRequest
from lexitui.domain.language_model import LanguageModelResponse
from lexitui.routing.errors import ProviderError, RoutingError
from lexitui.routing.local_requests import loaded_model_request
from lexitui.routing.record_watch import RecordWatch
from lexitui.runtime.chat_export import ChatExport, ExportedMessage
from lexitui.store import StoreError
from lexitui.store.conversations import Conversation, ConversationNotFound
from lexitui.ui.runtime.format import finished_stats, model_text, shown, streaming_stats
from lexitui.ui.runtime.routed import ROUTED, SOURCE, answered_by, can_answer, route_note
from lexitui.ui.runtime.turns import ChatLog, ChatTurn

if TYPE_CHECKING:
    from lexitui.routing.service import RoutingService
    from lexitui.runtime.conversations import ConversationService
    from lexitui.services import Services

GENERATION = "runtime-generation"
STATS_EVERY_S = 0.1  # the stats line is redrawn at most this often while tokens stream
SAVE_ERRORS = (StoreError, ConversationNotFound, sqlite3.Error)
T = TypeVar("T")
RequestFor = Callable[[tuple[LocalChatMessage, ...]], LocalGenerationRequest]


class ChatPane(Vertical):
    class Answered(Message):
        def __init__(self, response: LanguageModelResponse) -> None:
            super().__init__()
            self.response = response

    class Stopped(Message):
        """An answer was stopped before its end: the context holds what was said so far."""

    class Reopened(Message):
        def __init__(self, conversation: Conversation) -> None:
            super().__init__()
            self.conversation = conversation

    def __init__(self, request_for: RequestFor, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._request_for = request_for
        self.history: list[LocalChatMessage] = []
        self.conversation: Conversation | None = None
        # Counts clears: an answer stopped by a clear must not land in the next chat.
        self._chat = 0
        # Set while something else uses the model's slot (the benchmark): why the chat waits.
        self.busy: str | None = None

    def compose(self) -> ComposeResult:
        yield ChatLog(id="chat-log")
        yield Static("", id="chat-stats")
        yield Input(placeholder="Load a model (L), then type here and press Enter", id="chat-input")

    @property
    def services(self) -> Services:
        from lexitui.ui.app import LexituiApp

        app = self.app
        assert isinstance(app, LexituiApp)
        return app.services

    @property
    def conversations(self) -> ConversationService:
        return self.services.conversations

    @property
    def chat_log(self) -> ChatLog:
        return self.query_one(ChatLog)

    @property
    def generating(self) -> bool:
        return any(w.group == GENERATION and not w.is_finished for w in self.workers)

    def say(self, text: str, *, error: bool = False) -> None:
        stats = self.query_one("#chat-stats", Static)
        stats.update(text)
        stats.set_class(error, "error")

    # --- sending ---------------------------------------------------------------------------

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "chat-input":
            return
        event.stop()
        prompt = event.value.strip()
        if not prompt:
            return
        if self.generating:
            self.say("[yellow]An answer is still streaming: Esc stops it.[/]")
            return
        if self.busy:
            self.say(f"[yellow]{self.busy}[/]")
            return
        speaker = await self._speaker()
        if speaker is None:
            return
        message = LocalChatMessage(ChatRole.USER, prompt)
        request = self._request((*self.history, message))
        if request is None:
            return  # the input keeps the text, so the user can fix the parameters and resend
        event.input.value = ""
        self.history.append(message)
        await self._show(message, speaker)
        await self._save(message, speaker, request.system_prompt)
        self._answer(request, speaker)

    async def _speaker(self) -> str | None:
        """Who answers: the loaded model, else whoever the router picks; None (said why) when
        nothing could: no model loaded and no cloud provider ready."""
        active = self.services.runtime.active_model
        if active is not None:
            return active.model.id
        routing = await self._routing()
        if routing is None:
            return None
        if not can_answer(routing):
            self.say("[yellow]Load a model first: L opens the load dialog.[/]", error=True)
            return None
        return self.conversation.model_id if self.conversation else ROUTED

    async def _routing(self) -> RoutingService | None:
        from lexitui.ui.routing.data import routing_service

        try:
            return await routing_service(self.services)
        except ConfigError as exc:
            self.say(f"[red]Not sent: routing is off:[/] {shown(str(exc))}", error=True)
            return None

    def _request(self, messages: tuple[LocalChatMessage, ...]) -> LocalGenerationRequest | None:
        try:
            return self._request_for(messages)
        except InvalidRequest as exc:
            self.say(f"[red]Not sent:[/] {shown(str(exc))}", error=True)
            return None

    async def _show(self, message: LocalChatMessage, speaker: str) -> ChatTurn:
        turn = ChatTurn(message, speaker)
        await self.chat_log.mount(turn)
        self.chat_log.scroll_end(animate=False)
        return turn

    @work(exclusive=True, group=GENERATION)
    async def _answer(self, request: LocalGenerationRequest, speaker: str) -> None:
        chat = self._chat
        routing = await self._routing()
        if routing is None:
            return
        turn = await self._show(LocalChatMessage(ChatRole.ASSISTANT, ""), speaker)
        answer = turn.body
        assert isinstance(answer, Markdown)
        log = self.chat_log
        stream = Markdown.get_stream(answer)
        parts: list[str] = []
        started = time.perf_counter()
        first: float | None = None
        shown_at = 0.0
        response: LanguageModelResponse | None = None
        failed = False
        self.say(streaming_stats(0, 0.0, None))
        watch = RecordWatch(routing.records)
        try:
            # Closing the router's stream closes the provider's: for the local model, the HTTP
            # stream to the engine, which then stops decoding.
            routed = loaded_model_request(request, self.services.runtime)
            chunks = routing.stream(routed, source=SOURCE, request_id=watch.request_id)
            async with aclosing(chunks):
                async for chunk in chunks:
                    if chunk.response is not None:
                        response = chunk.response
                    if not chunk.text:
                        continue
                    now = time.perf_counter()
                    first = first or now
                    parts.append(model_text(chunk.text))
                    await stream.write(parts[-1])
                    log.scroll_end(animate=False)
                    if now - shown_at >= STATS_EVERY_S:
                        shown_at = now
                        self.say(streaming_stats(len(parts), now - first, (first - started) * 1000))
        except (ProviderError, RoutingError) as exc:
            failed = True
            self.say(f"[red]Generation failed:[/] {shown(str(exc))}", error=True)
        finally:
            watch.close()
            await stream.stop()
            if chat == self._chat:  # not cleared meanwhile: the answer belongs to this chat
                record = watch.record
                if record is not None and (not record.is_local or speaker == ROUTED):
                    turn.relabel(answered_by(record))
                await self._keep("".join(parts), turn, request, response)
                note = route_note(record) if record is not None and response else None
                if note and turn.is_mounted:
                    await turn.add_note(note)
                    log.scroll_end(animate=False)
            if response is None and not failed:  # stopped: the context changed all the same
                self.post_message(self.Stopped())
        if response is not None and chat == self._chat:
            self.say(finished_stats(response))
            self.post_message(self.Answered(response))

    async def _keep(
        self,
        text: str,
        turn: ChatTurn,
        request: LocalGenerationRequest,
        response: LanguageModelResponse | None,
    ) -> None:
        """Add a finished (or stopped) answer to the history and the store."""
        if not text:
            if turn.is_mounted:
                await turn.remove()
            return
        message = LocalChatMessage(ChatRole.ASSISTANT, text)
        turn.message = message
        self.history.append(message)
        await self._save(
            message,
            turn.speaker,
            request.system_prompt,
            response.tokens_per_second if response else None,
            response.ttft_ms if response else None,
        )

    def stop(self) -> bool:
        """Stop the answer being streamed; False when none is."""
        if not self.generating:
            return False
        self.workers.cancel_group(self, GENERATION)
        self.say("Stopped: the answer so far is kept.")
        return True

    async def regenerate(self) -> None:
        """Ask again for the last answer (dropping the one given, here and in the store)."""
        if self.generating:
            self.say("[yellow]An answer is still streaming: Esc stops it first.[/]")
            return
        speaker = await self._speaker()
        if speaker is None:
            return
        if self.history and self.history[-1].role is ChatRole.ASSISTANT:
            request = self._request(tuple(self.history[:-1]))
            if request is None:
                return
            self.history.pop()
            answers = self.query(".assistant-turn")
            if answers:
                await answers.last().remove()
            if self.conversation is not None:
                await self._guard(self.conversations.drop_last_answer(self.conversation.id))
        elif self.history:
            request = self._request(tuple(self.history))
            if request is None:
                return
        else:
            self.say("Nothing to regenerate yet: send a message first.")
            return
        self._answer(request, speaker)

    # --- conversations ---------------------------------------------------------------------

    async def clear(self) -> None:
        """Empty the view and start a new conversation (the saved one stays in the list)."""
        self.stop()
        self._chat += 1
        self.history.clear()
        self.conversation = None
        self.chat_log.select(None)
        await self.chat_log.remove_children()
        self.say("")

    async def reopen(self, conversation_id: int) -> None:
        try:
            conversation, messages = await self.conversations.reopen(conversation_id)
        except SAVE_ERRORS as exc:
            self.say(f"[red]Could not open the conversation:[/] {shown(str(exc))}", error=True)
            return
        await self.clear()
        self.conversation = conversation
        for message in messages:
            self.history.append(message)
            await self._show(message, conversation.model_id)
        title = shown(conversation.title or "untitled", 60)
        model = shown(conversation.model_id, 60)
        self.say(f"Reopened “{title}” ({len(self.history)} messages, {model})")
        self.post_message(self.Reopened(conversation))

    async def drop_after(self, kept: int, tokens: int) -> int:
        """A truncation kept the first ``kept`` messages of the history: mark the others as out
        of the context (they are no longer sent) and say so; returns how many were dropped."""
        live = [turn for turn in self.chat_log.turns if not turn.dropped]
        gone = live[kept:]
        for turn in gone:
            turn.drop()
        del self.history[kept:]
        if gone:
            many = "message was" if len(gone) == 1 else "messages were"
            note = (
                f"{len(gone)} {many} dropped from the context (it keeps its first {tokens} "
                "tokens): shown dimmed above, no longer sent to the model."
            )
            await self.chat_log.mount(Static(note, classes="dropped-note"))
            self.chat_log.scroll_end(animate=False)
        return len(gone)

    def transcript(self, model_id: str, system_prompt: str) -> ChatExport:
        """The chat as shown, dropped messages included, for an export."""
        conversation = self.conversation
        messages = tuple(
            ExportedMessage(t.message.role, t.message.content, t.speaker, not t.dropped)
            for t in self.chat_log.turns
            if t.message.content
        )
        title = conversation.title if conversation and conversation.title else ""
        return ChatExport(
            title=title or (messages[0].content[:60] if messages else "Chat"),
            model_id=conversation.model_id if conversation else model_id,
            messages=messages,
            system_prompt=conversation.system_prompt if conversation else system_prompt,
        )

    async def _save(
        self,
        message: LocalChatMessage,
        model_id: str,
        system_prompt: str | None,
        tokens_per_second: float | None = None,
        ttft_ms: float | None = None,
    ) -> None:
        saved = await self._guard(
            self.conversations.record(
                self.conversation,
                message,
                model_id=model_id,
                system_prompt=system_prompt or "",
                tokens_per_second=tokens_per_second,
                ttft_ms=ttft_ms,
            )
        )
        if saved is not None:
            self.conversation = saved

    async def _guard(self, write: Awaitable[T]) -> T | None:
        """Run a store write; a failure is shown, never raised: the chat goes on unsaved."""
        try:
            return await write
        except SAVE_ERRORS as exc:
            self.notify(f"The chat could not be saved: {shown(str(exc), 600)}", severity="error")
            return None

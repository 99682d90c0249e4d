"""The Runtime area as a user drives it: load through the dialog, chat, watch the context, save
and restore it, benchmark, reopen a saved chat after a restart, and survive a killed engine."""

from __future__ import annotations

import os
import signal

import pytest
from syrupy.assertion import SnapshotAssertion
from textual._doc import take_svg_screenshot
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.widgets import Input, Markdown, Static

from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.domain.inference import ContextStatus, InvalidRequest
from lexitui.events import ModelUnloaded
from lexitui.runtime.settings import RuntimeSettings
from lexitui.storage.starter import STARTER_ID
from lexitui.store.conversations import ConversationRows
from lexitui.ui.app import LexituiApp
from lexitui.ui.runtime import format as runtime_format
from lexitui.ui.runtime.dialogs import ConversationPicker
from lexitui.ui.runtime.embed import EmbeddingsTester
from lexitui.ui.runtime.evict_dialog import ConfirmEvictDialog
from lexitui.ui.runtime.params import ParamsPanel
from lexitui.ui.runtime.screen import RuntimeScreen
from lexitui.ui.runtime.snapshots import SnapshotPicker
from tests.waiting import until, until_answered

SMALL = ModelLoadOptions(context_length=1024, threads=1, embedding=True)


def text(screen: DOMNode, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def active_id(app: LexituiApp) -> str | None:
    active = app.services.runtime.active_model
    return active.id if active else None


def first_row(screen: RuntimeScreen) -> str:
    table = screen.table
    return " ".join(str(cell) for cell in table.get_row_at(0)) if table.row_count else ""


async def open_runtime(app: LexituiApp, pilot: Pilot[None]) -> RuntimeScreen:
    await app.services_ready.wait()
    await pilot.press("7")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, RuntimeScreen)
    return screen


async def load_through_dialog(app: LexituiApp, pilot: Pilot[None], **fields: str) -> None:
    await pilot.press("escape", "L")  # Esc leaves the chat input, where L would be a letter
    await until(lambda: bool(app.screen.query("#load-context_length")))
    dialog = app.screen
    for name, value in fields.items():
        dialog.query_one(f"#load-{name}", Input).value = value
    # Let the dialog's memory estimate for these values land before loading.
    await pilot.pause(0.5)
    await until(lambda: not any(w.node is dialog and not w.is_finished for w in app.workers), 30)
    await pilot.press("ctrl+s")
    await until(lambda: app.services.runtime.active_model is not None, 60)


async def send(screen: RuntimeScreen, pilot: Pilot[None], message: str) -> str:
    """Send ``message`` from the input and wait for the finished answer's stats line."""
    chat_input = screen.query_one("#chat-input", Input)
    chat_input.focus()
    chat_input.value = message
    before = len(screen.chat.history)
    await pilot.press("enter")
    await until(lambda: "finish:" in text(screen, "#chat-stats"), 120)
    assert len(screen.chat.history) == before + 2
    return text(screen, "#chat-stats")


def deterministic(screen: RuntimeScreen) -> None:
    params = screen.query_one(ParamsPanel)
    params.set_value("temperature", "0")
    params.set_value("seed", "42")
    params.set_value("max_tokens", "48")


async def test_nothing_loaded_says_how_and_number_keys_still_switch_areas() -> None:
    app = LexituiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_runtime(app, pilot)
        assert "Nothing loaded" in text(screen, "#runtime-state")
        assert "no model loaded" in text(screen, "#runtime-context")
        assert screen.focused is screen.table, "not the input: number keys must switch areas"
        await pilot.press("i", *"hello", "enter")
        assert "Load a model first" in text(screen, "#chat-stats")
        assert screen.query_one("#chat-input", Input).value == "hello", "nothing is lost"
        await pilot.press("escape", "e")
        await until(lambda: isinstance(app.screen, EmbeddingsTester))
        await until(lambda: "nothing to embed with" in text(app.screen, "#embed-model"))
        await pilot.press("escape", "escape", "1")
        assert app.current_mode == "dashboard"


def test_engine_text_and_figures_are_written_safely() -> None:
    assert runtime_format.model_text("a\x1b[31mb\n\tc\u202e") == "a\\x1b[31mb\n\tc\\u202e"
    died = runtime_format.event_text(ModelUnloaded("m", "engine exited (killed by SIGKILL)"))
    assert died is not None and died[1] and "SIGKILL" in died[0]
    assert runtime_format.event_text(ModelUnloaded("m", "unloaded by user")) == (
        "Unloaded m: unloaded by user",
        False,
    )
    gauge = runtime_format.context_gauge(ContextStatus(1024, 256, 6_000_000)).plain
    assert "256/1024 tokens (25%) · KV 5.7 MiB" in gauge


async def test_the_parameter_panel_builds_requests_and_names_bad_values() -> None:
    app = LexituiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_runtime(app, pilot)
        await pilot.press("p")
        params = screen.query_one(ParamsPanel)
        assert params.display and screen.focused is params.query_one("#param-system")
        messages = (LocalChatMessage(ChatRole.USER, "hi"),)
        params.system_prompt = "Be brief."
        deterministic(screen)
        request = params.request(messages)
        assert (request.temperature, request.seed, request.max_tokens) == (0.0, 42, 48)
        assert request.system_prompt == "Be brief." and request.top_p == 0.9
        params.set_value("top_p", "1.5")
        with pytest.raises(InvalidRequest, match="top-p must be between 0 and 1"):
            params.request(messages)
        params.set_value("top_p", "")
        params.set_value("seed", "lucky")
        with pytest.raises(InvalidRequest, match="seed must be a whole number"):
            params.request(messages)
        params.set_value("seed", "")
        params.set_mode("json_schema", "{not json")
        with pytest.raises(InvalidRequest, match="not valid JSON"):
            params.request(messages)
        params.set_mode("grammar", 'root ::= "yes" | "no"')
        assert params.request(messages).grammar == 'root ::= "yes" | "no"'
        await pilot.press("escape", "p")
        assert not params.display


async def test_a_saved_conversation_is_listed_and_reopened() -> None:
    app = LexituiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_runtime(app, pilot)
        rows = ConversationRows(app.services.store)
        chat = await rows.create(STARTER_ID, system_prompt="Answer in French.")
        await rows.append(chat.id, ChatRole.USER, "What is **GGUF**?")
        await rows.append(chat.id, ChatRole.ASSISTANT, "A *file format* for models.")
        await pilot.press("o")
        await until(lambda: isinstance(app.screen, ConversationPicker))
        picker = app.screen
        assert isinstance(picker, ConversationPicker)
        await until(lambda: len(picker.conversations) == 1)
        await pilot.press("enter")
        await until(lambda: len(screen.chat.history) == 2)
        assert screen.chat.conversation is not None and screen.chat.conversation.id == chat.id
        assert screen.query_one(ParamsPanel).system_prompt == "Answer in French."
        answer = screen.query_one(".assistant-message", Markdown)
        assert answer.source == "A *file format* for models."
        assert "Reopened" in text(screen, "#chat-stats")
        await pilot.press("n")
        assert screen.chat.history == [] and screen.chat.conversation is None


@pytest.mark.engine
@pytest.mark.timeout(600)  # a benchmark and four answers on two shared cores
async def test_load_chat_context_snapshots_and_profile() -> None:
    app = LexituiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runtime(app, pilot)
        await load_through_dialog(app, pilot, context_length="1024", threads="1")
        active = app.services.runtime.active_model
        assert active is not None and active.options.threads == 1
        await until(lambda: "0/1024" in first_row(screen))
        assert STARTER_ID in first_row(screen)
        assert screen.focused is screen.query_one("#chat-input")

        deterministic(screen)
        stats = await send(screen, pilot, "Name one colour.")
        assert "tokens" in stats and "tok/s" in stats and "TTFT" in stats
        assert screen.query(".assistant-message").last(Markdown).source.strip()
        first = app.services.context.status().used_tokens
        assert first > 0 and f"{first}/1024 tokens" in text(screen, "#runtime-context")
        await send(screen, pilot, "And another one?")
        second = app.services.context.status().used_tokens
        assert second > first, "the second exchange adds to the context"
        assert f"{second}/1024 tokens" in text(screen, "#runtime-context")

        await pilot.press("escape", "s")  # Esc leaves the input so s is a key, not a letter

        async def snapshot_listed() -> bool:
            return bool(await app.services.context.list_snapshots(STARTER_ID))

        await until_answered(snapshot_listed, 30)
        saved = await app.services.context.list_snapshots(STARTER_ID)
        assert saved[0].token_count == second
        await pilot.press("t")
        await until(lambda: bool(app.screen.query("#truncate-keep")))
        app.screen.query_one("#truncate-keep", Input).value = "10"
        await pilot.press("enter")
        await until(lambda: "10/1024 tokens" in text(screen, "#runtime-context"), 30)
        await pilot.press("ctrl+l")
        await until(lambda: " 0/1024 tokens" in text(screen, "#runtime-context"), 30)
        assert screen.chat.history == []
        await pilot.press("r")
        await until(lambda: isinstance(app.screen, SnapshotPicker) and app.screen.loaded)
        await pilot.press("enter")
        await until(lambda: f"{second}/1024 tokens" in text(screen, "#runtime-context"), 30)

        await pilot.press("b")

        def benched_or_refused() -> bool:
            state = text(screen, "#runtime-state")
            return "bench" in text(screen, "#runtime-profile") or "failed" in state.lower()

        # Either way the wait ends with what the screen said, so a failure names its cause.
        try:
            await until(benched_or_refused, 240)
        except AssertionError as waited:
            said = text(screen, "#runtime-state")
            where = (screen.focused, screen.chat.busy, screen.chat.generating)
            said_all = f"no benchmark: {said!r}; focus, busy, generating: {where}"
            raise AssertionError(said_all) from waited
        assert "bench" in text(screen, "#runtime-profile"), text(screen, "#runtime-state")
        profile = text(screen, "#runtime-profile")
        assert "requests" in profile and "avg" in profile and "TTFT" in profile
        assert "Bench of" in text(screen, "#runtime-state")
        await pilot.press("q")


@pytest.mark.engine
async def test_a_conversation_is_reopened_after_a_restart() -> None:
    first = LexituiApp()
    async with first.run_test(size=(100, 30)) as pilot:
        screen = await open_runtime(first, pilot)
        screen.pick_model(STARTER_ID)
        await until(lambda: first.services.runtime.active_model is not None, 60)
        deterministic(screen)
        await send(screen, pilot, "Remember the word apple.")
        answer = screen.chat.history[-1].content
        await pilot.press("escape", "q")

    again = LexituiApp()  # same LEXITUI_HOME, a fresh process state
    async with again.run_test(size=(100, 30)) as pilot:
        screen = await open_runtime(again, pilot)
        await pilot.press("o")
        await until(lambda: isinstance(again.screen, ConversationPicker))
        picker = again.screen
        assert isinstance(picker, ConversationPicker)
        await until(lambda: bool(picker.conversations))
        assert picker.conversations[0].title == "Remember the word apple."
        await pilot.press("enter")
        await until(lambda: len(screen.chat.history) == 2)
        assert screen.chat.history[0].content == "Remember the word apple."
        assert screen.chat.history[1].content == answer
        assert "Remember the word apple." in str(screen.query_one(".user-message", Static).render())


@pytest.mark.engine
async def test_a_killed_engine_is_reported_and_a_new_load_works() -> None:
    app = LexituiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_runtime(app, pilot)
        await load_through_dialog(app, pilot, context_length="2048")
        active = app.services.runtime.active_model
        assert active is not None and active.pid is not None
        screen.query_one(ParamsPanel).set_value("max_tokens", "1500")
        chat_input = screen.query_one("#chat-input", Input)
        chat_input.focus()
        chat_input.value = "Count from 1 to 500, one number per line."
        await pilot.press("enter")
        await until(lambda: "tok/s" in text(screen, "#chat-stats"), 60)  # tokens are streaming
        os.kill(active.pid, signal.SIGKILL)

        await until(lambda: not screen.table.models, 30)
        stats = screen.query_one("#chat-stats", Static)
        await until(lambda: not screen.chat.generating, 30)
        assert "killed by SIGKILL" in text(screen, "#chat-stats")
        assert stats.has_class("error")
        assert "SIGKILL" in text(screen, "#runtime-state")
        assert screen.chat.history[-1].role is ChatRole.ASSISTANT, "the text so far is kept"

        await load_through_dialog(app, pilot)
        await until(lambda: bool(screen.table.models))
        deterministic(screen)  # not the 1500 tokens the counting asked for
        await send(screen, pilot, "Say yes.")
        await pilot.press("escape", "q")
    assert app.return_code in (None, 0)


@pytest.mark.engine
async def test_stop_regenerate_and_make_room_by_unloading() -> None:
    app = LexituiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_runtime(app, pilot)
        await load_through_dialog(app, pilot, context_length="1024", threads="1")
        first = app.services.runtime.active_model
        assert first is not None

        screen.query_one(ParamsPanel).set_value("max_tokens", "1500")
        chat_input = screen.query_one("#chat-input", Input)
        chat_input.focus()
        chat_input.value = "Count from 1 to 500, one number per line."
        await pilot.press("enter")
        await until(lambda: "tok/s" in text(screen, "#chat-stats"), 60)
        await pilot.press("escape")  # stops the answer; the input keeps the focus
        await until(lambda: not screen.chat.generating, 10)
        assert "Stopped" in text(screen, "#chat-stats")
        stopped = screen.chat.history[-1]
        assert stopped.role is ChatRole.ASSISTANT and stopped.content, "the text so far is kept"
        deterministic(screen)
        await pilot.press("ctrl+r")
        await until(lambda: "finish:" in text(screen, "#chat-stats"), 120)
        assert len(screen.chat.history) == 2 and screen.chat.history[-1] != stopped
        assert len(screen.query(".assistant-message")) == 1, "the stopped answer was replaced"

        # A budget that holds one load of the starter but not two: the second asks first.
        footprint = await app.services.runtime.estimate(STARTER_ID, SMALL)
        budget = int(footprint.total_bytes * 1.5)
        app.services.runtime.settings = RuntimeSettings(memory_budget_bytes=budget)
        await pilot.press("escape", "L")
        await until(lambda: bool(app.screen.query("#load-threads")))
        app.screen.query_one("#load-context_length", Input).value = "1024"
        app.screen.query_one("#load-threads", Input).value = "2"  # another load, not a reuse
        await pilot.pause(0.5)
        await pilot.press("ctrl+s")
        await until(lambda: isinstance(app.screen, ConfirmEvictDialog), 30)
        await pilot.press("y")
        await until(lambda: active_id(app) not in (None, first.id), 60)
        await until(lambda: screen.table.row_count == 1)
        assert [m.options.threads for m in app.services.runtime.loaded_models()] == [2]
        await pilot.press("escape", "q")


def fixed_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Speeds, times and resident memory differ on every run; the picture must not."""
    monkeypatch.setattr(runtime_format, "measured", lambda _text: "(varies)")


def test_snapshot_nothing_loaded(
    svg_snapshot: SnapshotAssertion, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixed_figures(monkeypatch)

    async def go(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, LexituiApp)
        await open_runtime(app, pilot)

    assert svg_snapshot == take_svg_screenshot(
        app=LexituiApp(),
        terminal_size=(100, 30),
        run_before=go,
    )


@pytest.mark.engine
def test_snapshot_after_one_exchange(
    svg_snapshot: SnapshotAssertion, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixed_figures(monkeypatch)

    async def go(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, LexituiApp)
        screen = await open_runtime(app, pilot)
        screen.load_model(STARTER_ID, SMALL)
        await until(lambda: app.services.runtime.active_model is not None, 60)
        deterministic(screen)
        await send(screen, pilot, "Name one colour.")
        await until(lambda: "1 request " in text(screen, "#runtime-profile"), 10)
        await pilot.press("escape")
        await pilot.pause(0.2)

    assert svg_snapshot == take_svg_screenshot(
        app=LexituiApp(),
        terminal_size=(100, 30),
        run_before=go,
    )

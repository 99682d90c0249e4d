"""The Runtime chat's tools as a user drives them: who said what, copying a message, exporting
the chat (key and palette), a stopped answer counted in the gauge, a truncation that shows what
it dropped, and a benchmark that reports progress and leaves the chat's context as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, ProgressBar

from lexitui.config import Paths
from lexitui.domain.enums import ChatRole
from lexitui.runtime.chat_export import exports_dir
from lexitui.storage.starter import STARTER_ID
from lexitui.store.conversations import ConversationRows
from lexitui.ui.app import LexituiApp
from lexitui.ui.runtime.dialogs import ConversationPicker
from lexitui.ui.runtime.export import ExportDialog
from lexitui.ui.runtime.params import ParamsPanel
from lexitui.ui.runtime.screen import RuntimeScreen
from lexitui.ui.runtime.turns import ChatTurn
from tests.ui.test_runtime_screen import (
    deterministic,
    load_through_dialog,
    open_runtime,
    send,
    text,
)
from tests.waiting import until


async def reopen_saved_chat(app: LexituiApp, pilot: Pilot[None], screen: RuntimeScreen) -> None:
    rows = ConversationRows(app.services.store)
    chat = await rows.create(STARTER_ID, system_prompt="Be brief.")
    await rows.append(chat.id, ChatRole.USER, "What is GGUF?")
    await rows.append(chat.id, ChatRole.ASSISTANT, "A *file format* for models.")
    await pilot.press("o")
    await until(lambda: isinstance(app.screen, ConversationPicker))
    picker = app.screen
    assert isinstance(picker, ConversationPicker)
    await until(lambda: len(picker.conversations) == 1)
    await pilot.press("enter")
    await until(lambda: len(screen.chat.history) == 2)


async def test_answers_are_labelled_and_messages_are_copied() -> None:
    app = LexituiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_runtime(app, pilot)
        await pilot.press("c")
        assert app.clipboard == "", "nothing to copy yet"
        await reopen_saved_chat(app, pilot, screen)
        you, answer = screen.query(ChatTurn)
        assert "You:" in str(you.query_one(".user-message").render())
        assert answer.label is not None and STARTER_ID in str(answer.label.render())

        await pilot.press("escape", "c")  # nothing selected: the last message
        assert app.clipboard == "A *file format* for models."
        screen.chat.chat_log.focus()
        await pilot.press("up", "up", "c")  # the first message, selected
        assert you.has_class("-selected")
        assert app.clipboard == "What is GGUF?"


async def test_the_chat_is_exported_to_markdown_and_json() -> None:
    app = LexituiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_runtime(app, pilot)
        await pilot.press("x")
        assert not isinstance(app.screen, ExportDialog), "an empty chat has nothing to export"
        await reopen_saved_chat(app, pilot, screen)
        await pilot.press("escape", "x")
        await until(lambda: isinstance(app.screen, ExportDialog))
        folder = exports_dir(Paths.from_env())
        suggested = Path(app.screen.query_one("#export-path", Input).value)
        assert suggested.parent == folder and suggested.suffix == ".md"
        await pilot.press("enter")
        await until(lambda: suggested.is_file())
        markdown = suggested.read_text("utf-8")
        assert "## You\n\nWhat is GGUF?" in markdown
        assert f"## {STARTER_ID}\n\nA *file format* for models." in markdown
        assert "Exported the chat (2 messages)" in text(screen, "#runtime-state")

        # From the palette, as JSON, to a path of the user's own.
        await pilot.press("ctrl+p")
        await pilot.press(*"Export the chat as JSON")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, ExportDialog))
        field = app.screen.query_one("#export-path", Input)
        assert field.value.endswith(".json")
        own = Path(field.value).parent.parent / "mine" / "chat.json"
        field.value = str(own)
        await pilot.press("enter")
        await until(lambda: own.is_file())
        document = json.loads(own.read_text("utf-8"))
        assert document["system_prompt"] == "Be brief."
        assert [m["speaker"] for m in document["messages"]] == ["You", STARTER_ID]

        await pilot.press("x")  # the same file again is refused, and kept
        await until(lambda: isinstance(app.screen, ExportDialog))
        app.screen.query_one("#export-path", Input).value = str(own)
        await pilot.press("enter")
        await until(lambda: "exists" in text(screen, "#runtime-state"))
        assert json.loads(own.read_text("utf-8")) == document


async def long_answer(screen: RuntimeScreen, pilot: Pilot[None]) -> None:
    """Ask for a long answer and wait until its tokens stream."""
    screen.query_one(ParamsPanel).set_value("max_tokens", "1500")
    chat_input = screen.query_one("#chat-input", Input)
    chat_input.focus()
    chat_input.value = "Count from 1 to 500, one number per line."
    await pilot.press("enter")
    await until(lambda: "tok/s" in text(screen, "#chat-stats"), 60)


@pytest.mark.engine
async def test_a_stopped_answer_is_counted_in_the_context_gauge() -> None:
    app = LexituiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_runtime(app, pilot)
        await load_through_dialog(app, pilot, context_length="1024", threads="1")
        await until(lambda: " 0/1024 tokens" in text(screen, "#runtime-context"), 10)
        await long_answer(screen, pilot)
        await pilot.press("escape")
        await until(lambda: not screen.chat.generating, 10)
        stopped = screen.chat.history[-1].content
        assert stopped, "the text so far is kept"
        # The prompt and the text so far are in the context; the gauge says so.
        await until(lambda: app.services.context.status().used_tokens > 20, 10)
        used = app.services.context.status().used_tokens
        await until(lambda: f" {used}/1024 tokens" in text(screen, "#runtime-context"), 10)
        await pilot.press("escape", "q")


@pytest.mark.engine
@pytest.mark.timeout(600)  # a benchmark and three answers on two shared cores
async def test_truncation_marks_dropped_messages_and_the_benchmark_keeps_the_chat() -> None:
    app = LexituiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_runtime(app, pilot)
        await load_through_dialog(app, pilot, context_length="1024", threads="1")
        deterministic(screen)
        await send(screen, pilot, "Name one colour.")
        await send(screen, pilot, "Name one animal.")
        used = app.services.context.status().used_tokens

        await pilot.press("escape", "b")
        await until(lambda: "Bench of" in text(screen, "#runtime-state"), 300)
        bar = screen.query_one("#runtime-bench", ProgressBar)
        assert bar.total == 5 and bar.progress == 5, "warm-up and four prompts, each shown"
        assert "context is kept" in text(screen, "#runtime-state")
        assert app.services.context.status().used_tokens == used
        await until(lambda: f" {used}/1024 tokens" in text(screen, "#runtime-context"), 10)
        # Not only the figure: the engine's slot holds the chat's tokens again.
        assert (await app.services.context.save_snapshot()).token_count == used
        await send(screen, pilot, "And one tree?")
        used = app.services.context.status().used_tokens
        exchange = app.services.runtime.engine().last_exchange
        assert exchange is not None
        within = await app.services.context.messages_within(exchange[0], used)
        assert within == 5, "the whole last prompt is in the context"

        # Keep about half: the later messages are dropped, marked, and no longer sent.
        await pilot.press("escape", "t")
        await until(lambda: bool(app.screen.query("#truncate-keep")))
        app.screen.query_one("#truncate-keep", Input).value = str(used // 2)
        await pilot.press("enter")
        await until(lambda: any(t.dropped for t in screen.query(ChatTurn)), 30)
        turns = list(screen.query(ChatTurn))
        dropped = [t for t in turns if t.dropped]
        assert 0 < len(dropped) < len(turns) and turns[-1].dropped and not turns[0].dropped
        assert len(screen.chat.history) == len(turns) - len(dropped)
        note = str(screen.query_one(".dropped-note").render())
        assert note.startswith(f"{len(dropped)} message") and "dropped from the context" in note
        await pilot.press("escape", "q")

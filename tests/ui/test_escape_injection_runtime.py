"""Runtime: a saved chat (its model, title and both sides' messages) and the engine log are
shown as text, whatever the model wrote or the engine printed."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from rich.text import Text

from lexitui.domain.enums import ChatRole
from lexitui.domain.routing import RoutedRequestRecord, RoutingStrategy
from lexitui.store.conversations import ConversationRows
from lexitui.ui.app import LexituiApp
from lexitui.ui.backends.engine_log import EngineLogScreen
from lexitui.ui.runtime.dialogs import ConversationPicker
from lexitui.ui.runtime.routed import route_note
from lexitui.ui.runtime.screen import RuntimeScreen
from tests.ui.hostile_text import (
    assert_shown_as_text,
    assert_terminal_safe,
    hostile,
    hostile_file_name,
    screen_text,
    shown_file_name,
)
from tests.waiting import until


async def test_chat_and_engine_log_are_shown_as_text(tmp_path: Path) -> None:
    app = LexituiApp()
    async with app.run_test(size=(200, 50)) as pilot:
        await app.services_ready.wait()
        await pilot.press("7")
        await until(lambda: isinstance(app.screen, RuntimeScreen))
        screen = app.screen
        assert isinstance(screen, RuntimeScreen)
        rows = ConversationRows(app.services.store)
        chat = await rows.create(hostile("CHATMODEL"))
        await rows.append(chat.id, ChatRole.USER, hostile("ASKED"))
        await rows.append(chat.id, ChatRole.ASSISTANT, f"{hostile('ANSWER')}\n\n**fine** text")

        # The saved chats: title (the first question) and model.
        await pilot.press("escape", "o")
        await until(lambda: isinstance(app.screen, ConversationPicker))
        picker = app.screen
        assert isinstance(picker, ConversationPicker)
        await until(lambda: len(picker.conversations) == 1)
        await pilot.pause()
        assert_shown_as_text(app, "ASKED", "CHATMODEL")
        assert_terminal_safe(app)

        # Reopened: the question, the answer (Markdown) and the line that names the chat.
        await pilot.press("enter")
        await until(lambda: len(screen.chat.history) == 2)
        await pilot.pause()
        assert_shown_as_text(app, "ASKED", "ANSWER", "CHATMODEL")
        assert_terminal_safe(app)
        assert "fine text" in screen_text(app)  # the model's own Markdown still renders

        # The engine log: lines the engine printed, in a file with a hostile name.
        log = tmp_path / f"{hostile_file_name('LOGFILE')}.log"
        log.write_text(f"loading model\n{hostile('LOGLINE')}\nprogress 10%\rprogress 99%\n")
        await app.push_screen(EngineLogScreen(log))
        await pilot.pause()
        assert_shown_as_text(app, "LOGLINE")
        assert shown_file_name("LOGFILE") in screen_text(app)
        assert "progress 10%progress 99%" in screen_text(app)  # a bare CR cannot hide a line
        assert_terminal_safe(app)


def test_who_answered_a_chat_and_why_is_written_as_text() -> None:
    """A cloud provider names its model and errors in its own words: the chat's note under a
    routed answer shows them as text."""
    record = RoutedRequestRecord(
        request_id="r1",
        provider_id=hostile("PROVIDER"),
        model_id=hostile("MODEL"),
        is_local=False,
        strategy=RoutingStrategy.PREFER_LOCAL,
        reason=hostile("REASON"),
        cost_usd=Decimal("0.0001"),
    )
    note = route_note(record)
    assert note is not None
    plain = Text.from_markup(note).plain
    for tag in ("PROVIDER", "MODEL", "REASON"):
        assert f"[b]{tag}[/b]" in plain
    assert "\x1b" not in plain and "\x9b" not in plain and "\u202e" not in plain

"""Saved chats: created, appended to, listed newest first, reopened, renamed and deleted."""

from __future__ import annotations

import pytest

from lexitui.domain.enums import ChatRole
from lexitui.services import Services
from lexitui.store.conversations import ConversationNotFound, ConversationRows, title_from


async def test_a_conversation_is_saved_and_reopened(services: Services) -> None:
    rows = ConversationRows(services.store)
    chat = await rows.create("starter", system_prompt="Be brief.")
    assert chat.title == "" and chat.system_prompt == "Be brief."
    await rows.append(chat.id, ChatRole.USER, "What is   a GGUF\nfile?")
    await rows.append(
        chat.id, ChatRole.ASSISTANT, "A model file.", tokens_per_second=120.5, ttft_ms=30
    )
    await rows.append(chat.id, ChatRole.USER, "And a quant?")

    reopened, messages = await rows.load(chat.id)
    assert reopened.title == "What is a GGUF file?", "the first user message names the chat"
    assert reopened.message_count == 3
    assert reopened.updated_at >= chat.updated_at
    assert [(m.role, m.content) for m in messages] == [
        (ChatRole.USER, "What is   a GGUF\nfile?"),
        (ChatRole.ASSISTANT, "A model file."),
        (ChatRole.USER, "And a quant?"),
    ]
    assert messages[1].tokens_per_second == 120.5 and messages[1].ttft_ms == 30


async def test_recent_lists_the_last_changed_first(services: Services) -> None:
    rows = ConversationRows(services.store)
    first = await rows.create("m", title="first")
    second = await rows.create("m", title="second")
    await rows.append(first.id, ChatRole.USER, "again")
    listed = await rows.recent()
    assert [c.title for c in listed] == ["first", "second"]
    assert [c.message_count for c in listed] == [1, 0]
    assert [c.id for c in await rows.recent(limit=1)] == [first.id]
    assert second.id in {c.id for c in listed}


async def test_rename_prompt_model_and_delete(services: Services) -> None:
    rows = ConversationRows(services.store)
    chat = await rows.create("m")
    await rows.append(chat.id, ChatRole.USER, "hello")
    await rows.rename(chat.id, "Greetings")
    await rows.set_system_prompt(chat.id, "You are terse.")
    await rows.set_model(chat.id, "other")
    changed = await rows.get(chat.id)
    assert (changed.title, changed.system_prompt, changed.model_id) == (
        "Greetings",
        "You are terse.",
        "other",
    )
    await rows.delete(chat.id)
    with pytest.raises(ConversationNotFound):
        await rows.get(chat.id)
    left = await services.store.fetch_all("SELECT COUNT(*) FROM messages")
    assert left[0][0] == 0, "a deleted conversation takes its messages with it"


async def test_regenerating_drops_only_the_last_answer(services: Services) -> None:
    rows = ConversationRows(services.store)
    chat = await rows.create("m")
    await rows.append(chat.id, ChatRole.USER, "q")
    assert not await rows.delete_last(chat.id, ChatRole.ASSISTANT), "a question is kept"
    await rows.append(chat.id, ChatRole.ASSISTANT, "a")
    assert await rows.delete_last(chat.id, ChatRole.ASSISTANT)
    assert [m.content for m in await rows.messages(chat.id)] == ["q"]


async def test_unknown_conversations_are_a_clear_error(services: Services) -> None:
    rows = ConversationRows(services.store)
    with pytest.raises(ConversationNotFound, match="no saved conversation 42"):
        await rows.append(42, ChatRole.USER, "lost")
    with pytest.raises(ConversationNotFound):
        await rows.rename(42, "x")
    with pytest.raises(ConversationNotFound):
        await rows.delete(42)


def test_titles_are_one_short_line() -> None:
    assert title_from("  two\nlines ") == "two lines"
    long = title_from("x" * 100)
    assert len(long) == 60 and long.endswith("…")

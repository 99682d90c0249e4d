"""A chat on the command line is saved like one in the TUI: listed by ``lexitui chats`` and
carried on by ``lexitui run --continue``, through the same conversation service."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lexitui.config import Paths
from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID

pytestmark = pytest.mark.engine

QUICK = ["--ctx", "1024", "--max-tokens", "4", "--temperature", "0", "--seed", "1"]


def lexitui(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lexitui", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )


def chats() -> list[dict[str, object]]:
    listed = lexitui("chats", "--json")
    assert listed.returncode == 0, listed.stderr
    found: list[dict[str, object]] = json.loads(listed.stdout)
    return found


def test_an_interactive_chat_is_saved_listed_and_carried_on(paths: Paths) -> None:
    assert chats() == []
    first = lexitui("run", STARTER_ID, *QUICK, "--system", "Be brief.", stdin="Name a colour.\n")
    assert first.returncode == 0, first.stderr
    (saved,) = chats()
    assert saved["model_id"] == STARTER_ID and saved["message_count"] == 2
    assert saved["title"] == "Name a colour." and saved["system_prompt"] == "Be brief."
    assert f"--continue {saved['id']}" in first.stderr

    again = lexitui("run", STARTER_ID, "And another?", *QUICK, "--continue", str(saved["id"]))
    assert again.returncode == 0, again.stderr
    (carried,) = chats()
    assert carried["id"] == saved["id"] and carried["message_count"] == 4


async def test_the_saved_messages_are_what_the_chat_said(paths: Paths) -> None:
    lexitui("run", STARTER_ID, *QUICK, stdin="Say hi.\n/bye\n")
    services = Services.build(paths)
    await services.start()
    try:
        (conversation,) = await services.conversations.recent()
        _, messages = await services.conversations.reopen(conversation.id)
    finally:
        await services.stop()
    assert [m.role for m in messages] == [ChatRole.USER, ChatRole.ASSISTANT]
    assert messages[0] == LocalChatMessage(ChatRole.USER, "Say hi.")
    assert messages[1].content  # the answer as streamed


def test_a_missing_conversation_is_one_clear_line() -> None:
    missing = lexitui("run", STARTER_ID, "Hello", *QUICK, "--continue", "41")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "lexitui: no saved conversation 41"
    assert lexitui("chats").stdout.startswith("No saved conversations yet")

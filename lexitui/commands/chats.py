"""Saved conversations on the command line: ``lexitui chats`` lists them, and an interactive
``lexitui run`` (or one with ``--continue ID``) saves each exchange, the same conversations the
Runtime screen lists and reopens.

A save that fails (a full disk, a locked database) is said once on stderr; the chat goes on.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys

from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.domain.language_model import LanguageModelResponse
from lexitui.services import Services
from lexitui.store import StoreError
from lexitui.store.conversations import Conversation

SAVE_ERRORS = (StoreError, sqlite3.Error, OSError)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    chats = sub.add_parser("chats", help="saved conversations (reopen one with run --continue)")
    chats.add_argument("--limit", type=int, default=50, help="how many, newest first")
    chats.add_argument("--json", action="store_true")
    chats.set_defaults(func=cmd_chats)


def add_continue_option(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "--continue",
        dest="continue_id",
        type=int,
        metavar="ID",
        help="carry on a saved conversation (see `lexitui chats`); its messages are sent again",
    )


async def cmd_chats(args: argparse.Namespace) -> int:
    if args.limit < 1:
        print("lexitui: --limit must be at least 1", file=sys.stderr)
        return 2
    services = Services.build()
    await services.start()
    try:
        found = await services.conversations.recent(args.limit)
    finally:
        await services.stop()
    if args.json:
        print(json.dumps([_as_json(c) for c in found], indent=2))
        return 0
    if not found:
        print("No saved conversations yet: an interactive `lexitui run MODEL` saves one.")
        return 0
    for c in found:
        title = c.title or "untitled"
        when = c.updated_at.astimezone().strftime("%Y-%m-%d %H:%M")
        print(f"{c.id:>5}  {when}  {c.message_count:>3} messages  {c.model_id}  {title}")
    return 0


def _as_json(c: Conversation) -> dict[str, object]:
    return {
        "id": c.id,
        "title": c.title,
        "model_id": c.model_id,
        "system_prompt": c.system_prompt,
        "message_count": c.message_count,
        "started_at": c.started_at.isoformat(),
        "updated_at": c.updated_at.isoformat(),
    }


class ChatSaver:
    """Keeps one chat's conversation in the store, exchange by exchange."""

    def __init__(self, services: Services, model_id: str, system_prompt: str) -> None:
        self._services = services
        self._model_id = model_id
        self._system_prompt = system_prompt
        self.conversation: Conversation | None = None
        self._failed = False

    async def reopen(self, conversation_id: int) -> list[LocalChatMessage]:
        """The saved messages to send again (a ``ConversationNotFound`` when there is none)."""
        conversation, messages = await self._services.conversations.reopen(conversation_id)
        self.conversation = conversation
        return messages

    async def exchange(self, question: LocalChatMessage, answer: LanguageModelResponse) -> None:
        """Save a question and its answer, together, once the answer is complete (a stopped
        answer saves nothing, as it is not kept in the chat either)."""
        reply = LocalChatMessage(ChatRole.ASSISTANT, answer.text)
        conversations = self._services.conversations
        try:
            self.conversation = await conversations.record(
                self.conversation,
                question,
                model_id=self._model_id,
                system_prompt=self._system_prompt,
            )
            self.conversation = await conversations.record(
                self.conversation,
                reply,
                model_id=self._model_id,
                tokens_per_second=answer.tokens_per_second,
                ttft_ms=answer.ttft_ms,
            )
        except SAVE_ERRORS as exc:
            if not self._failed:
                print(f"lexitui: the chat could not be saved: {exc}", file=sys.stderr)
            self._failed = True

    def farewell(self) -> None:
        if self.conversation is not None and not self._failed:
            print(
                f"Saved as conversation {self.conversation.id}: "
                f"lexitui run {self._model_id} --continue {self.conversation.id}",
                file=sys.stderr,
            )

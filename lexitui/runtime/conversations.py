"""Saved chats, one service for every place people chat: the Runtime screen and ``lexitui run``.

A conversation is created by its first message and each message is saved as it is said, so a
chat survives a quit, a crash or a closed SSH session, and either front end can reopen it. The
store's rows stay in ``store/conversations.py``; this is what a chat needs from them.
"""

from __future__ import annotations

from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.store.conversations import Conversation, ConversationRows

# What a reopened chat sends again: the system prompt is kept on the conversation itself.
CHAT_ROLES = (ChatRole.USER, ChatRole.ASSISTANT)


class ConversationService:
    def __init__(self, rows: ConversationRows) -> None:
        self._rows = rows

    async def record(
        self,
        conversation: Conversation | None,
        message: LocalChatMessage,
        *,
        model_id: str,
        system_prompt: str = "",
        tokens_per_second: float | None = None,
        ttft_ms: float | None = None,
    ) -> Conversation:
        """Save one message of a chat; with no conversation yet, this message starts one.
        Returns the conversation the message is in."""
        if conversation is None:
            conversation = await self._rows.create(model_id, system_prompt=system_prompt)
        await self._rows.append(
            conversation.id,
            message.role,
            message.content,
            tokens_per_second=tokens_per_second,
            ttft_ms=ttft_ms,
        )
        return conversation

    async def reopen(self, conversation_id: int) -> tuple[Conversation, list[LocalChatMessage]]:
        """The conversation and the messages to send again, oldest first (a
        ``ConversationNotFound`` when it was deleted)."""
        conversation, stored = await self._rows.load(conversation_id)
        messages = [LocalChatMessage(m.role, m.content) for m in stored if m.role in CHAT_ROLES]
        return conversation, messages

    async def recent(self, limit: int = 50) -> list[Conversation]:
        """The most recently changed conversations first."""
        return await self._rows.recent(limit)

    async def drop_last_answer(self, conversation_id: int) -> bool:
        """Forget the newest answer (it is being regenerated); False when the newest message is
        not an answer."""
        return await self._rows.delete_last(conversation_id, ChatRole.ASSISTANT)

    async def delete(self, conversation_id: int) -> None:
        await self._rows.delete(conversation_id)

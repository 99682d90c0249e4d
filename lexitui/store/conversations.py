"""Saved chats of the Runtime area: one ``conversations`` row per chat, its ``messages`` in order.

Each message is written as soon as it is complete, so a chat survives a crash or ``kill -9`` up to
its last finished answer. A conversation with no title takes the start of its first user message,
which is what a user recognises in the list of saved chats. Times are stored as UTC ISO text, so
``updated_at`` sorts as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

from lexitui.domain.enums import ChatRole
from lexitui.store.database import Store

TITLE_LENGTH = 60


class ConversationNotFound(LookupError):
    """No saved conversation has that id (deleted, or from another database)."""


@dataclass(frozen=True)
class StoredMessage:
    id: int
    role: ChatRole
    content: str
    created_at: datetime
    tokens_per_second: float | None = None
    ttft_ms: float | None = None


@dataclass(frozen=True)
class Conversation:
    id: int
    model_id: str
    title: str
    system_prompt: str
    started_at: datetime
    updated_at: datetime
    message_count: int = 0


def title_from(text: str) -> str:
    """The first line of a message, cut to fit a list row."""
    line = " ".join(text.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1] + "…"


class ConversationRows:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def create(self, model_id: str, title: str = "", system_prompt: str = "") -> Conversation:
        now = _now()
        async with self._store.write() as conn:
            cursor = await conn.execute(
                "INSERT INTO conversations (model_id, started_at, title, system_prompt, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (model_id, now.isoformat(), title_from(title), system_prompt, now.isoformat()),
            )
            new_id = cursor.lastrowid
        assert new_id is not None
        return Conversation(new_id, model_id, title_from(title), system_prompt, now, now)

    async def append(
        self,
        conversation_id: int,
        role: ChatRole,
        content: str,
        *,
        tokens_per_second: float | None = None,
        ttft_ms: float | None = None,
    ) -> StoredMessage:
        now = _now()
        async with self._store.write() as conn:
            await _require(conn, conversation_id)
            cursor = await conn.execute(
                "INSERT INTO messages (conversation_id, role, content, created_at,"
                " tokens_per_second, ttft_ms) VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, role.value, content, now.isoformat(), tokens_per_second, ttft_ms),
            )
            message_id = cursor.lastrowid
            await conn.execute(
                "UPDATE conversations SET updated_at = ?,"
                " title = CASE WHEN title = '' AND ? = 'user' THEN ? ELSE title END"
                " WHERE id = ?",
                (now.isoformat(), role.value, title_from(content), conversation_id),
            )
        assert message_id is not None
        return StoredMessage(message_id, role, content, now, tokens_per_second, ttft_ms)

    async def delete_last(self, conversation_id: int, role: ChatRole) -> bool:
        """Drop the newest message if it has ``role`` (an answer being regenerated)."""
        async with self._store.write() as conn:
            async with conn.execute(
                "SELECT id, role FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT 1",
                (conversation_id,),
            ) as cursor:
                row = await cursor.fetchone()
            if row is None or row[1] != role.value:
                return False
            await conn.execute("DELETE FROM messages WHERE id = ?", (row[0],))
            return True

    async def recent(self, limit: int = 50) -> list[Conversation]:
        """The most recently changed conversations first."""
        rows = await self._store.fetch_all(
            f"{_SELECT} GROUP BY c.id ORDER BY c.updated_at DESC, c.id DESC LIMIT ?", (limit,)
        )
        return [_conversation(r) for r in rows]

    async def get(self, conversation_id: int) -> Conversation:
        rows = await self._store.fetch_all(
            f"{_SELECT} WHERE c.id = ? GROUP BY c.id", (conversation_id,)
        )
        if not rows:
            raise ConversationNotFound(f"no saved conversation {conversation_id}")
        return _conversation(rows[0])

    async def messages(self, conversation_id: int) -> list[StoredMessage]:
        rows = await self._store.fetch_all(
            "SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        )
        return [_message(r) for r in rows]

    async def load(self, conversation_id: int) -> tuple[Conversation, list[StoredMessage]]:
        return await self.get(conversation_id), await self.messages(conversation_id)

    async def rename(self, conversation_id: int, title: str) -> None:
        await self._update(conversation_id, "title", title_from(title))

    async def set_system_prompt(self, conversation_id: int, system_prompt: str) -> None:
        await self._update(conversation_id, "system_prompt", system_prompt)

    async def set_model(self, conversation_id: int, model_id: str) -> None:
        """The model the conversation continues with (a chat can move to another model)."""
        await self._update(conversation_id, "model_id", model_id)

    async def _update(self, conversation_id: int, column: str, value: str) -> None:
        # ``column`` is one of our own names, never user text.
        async with self._store.write() as conn:
            await _require(conn, conversation_id)
            await conn.execute(
                f"UPDATE conversations SET {column} = ?, updated_at = ? WHERE id = ?",
                (value, _now().isoformat(), conversation_id),
            )

    async def delete(self, conversation_id: int) -> None:
        """Delete a conversation; its messages go with it (``ON DELETE CASCADE``)."""
        async with self._store.write() as conn:
            await _require(conn, conversation_id)
            await conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))


_SELECT = (
    "SELECT c.*, COUNT(m.id) AS message_count FROM conversations c"
    " LEFT JOIN messages m ON m.conversation_id = c.id"
)


async def _require(conn: aiosqlite.Connection, conversation_id: int) -> None:
    async with conn.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)) as cur:
        if await cur.fetchone() is None:
            raise ConversationNotFound(f"no saved conversation {conversation_id}")


def _now() -> datetime:
    return datetime.now(UTC)


def _conversation(row: aiosqlite.Row) -> Conversation:
    started = datetime.fromisoformat(row["started_at"])
    updated = row["updated_at"]
    return Conversation(
        id=row["id"],
        model_id=row["model_id"],
        title=row["title"],
        system_prompt=row["system_prompt"],
        started_at=started,
        # Rows written before migration 9 have no updated_at: their start is the best answer.
        updated_at=datetime.fromisoformat(updated) if updated else started,
        message_count=row["message_count"],
    )


def _message(row: aiosqlite.Row) -> StoredMessage:
    return StoredMessage(
        id=row["id"],
        role=ChatRole(row["role"]),
        content=row["content"],
        created_at=datetime.fromisoformat(row["created_at"]),
        tokens_per_second=row["tokens_per_second"],
        ttft_ms=row["ttft_ms"],
    )

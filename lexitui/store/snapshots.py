"""Rows of saved context snapshots (the KV-cache files live in the snapshots folder)."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from lexitui.domain.inference import ContextSnapshot
from lexitui.store.database import Store


class SnapshotRows:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def add(self, snapshot: ContextSnapshot) -> None:
        async with self._store.write() as conn:
            await conn.execute(
                "INSERT INTO context_snapshots (id, model_id, file_name, token_count, size_bytes,"
                " label, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    snapshot.id,
                    snapshot.model_id,
                    snapshot.file_name,
                    snapshot.token_count,
                    snapshot.size_bytes,
                    snapshot.label,
                    snapshot.created_at.isoformat(),
                ),
            )

    async def list(self, model_id: str | None = None) -> list[ContextSnapshot]:
        if model_id is None:
            rows = await self._store.fetch_all(
                "SELECT * FROM context_snapshots ORDER BY created_at DESC"
            )
        else:
            rows = await self._store.fetch_all(
                "SELECT * FROM context_snapshots WHERE model_id = ? ORDER BY created_at DESC",
                (model_id,),
            )
        return [_snapshot(r) for r in rows]

    async def get(self, snapshot_id: str) -> ContextSnapshot | None:
        rows = await self._store.fetch_all(
            "SELECT * FROM context_snapshots WHERE id = ?", (snapshot_id,)
        )
        return _snapshot(rows[0]) if rows else None

    async def delete(self, snapshot_id: str) -> None:
        async with self._store.write() as conn:
            await conn.execute("DELETE FROM context_snapshots WHERE id = ?", (snapshot_id,))


def _snapshot(row: aiosqlite.Row) -> ContextSnapshot:
    return ContextSnapshot(
        id=row["id"],
        model_id=row["model_id"],
        token_count=row["token_count"],
        size_bytes=row["size_bytes"],
        file_name=row["file_name"],
        created_at=datetime.fromisoformat(row["created_at"]),
        label=row["label"],
    )

"""Installed models with their storage details (usage, header facts), and forgotten library
files.

``ModelRegistry`` owns adding rows (every area installs through it); this module reads them
joined with ``model_details`` (schema step 6, deleted with its row) and makes the changes only
storage makes: removing rows, counting use, caching header facts, re-pointing rows after a
store move.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

import aiosqlite

from lexitui.domain.enums import DownloadStatus
from lexitui.domain.models import check_model_id
from lexitui.domain.storage import HeaderFacts, StoredModel
from lexitui.store import Store
from lexitui.store.installed_models import ModelNotFound, installed_from_row

UsageColumn = Literal["use_count", "total_seconds"]  # the only names spliced into SQL below
PENDING_DOWNLOADS = (
    DownloadStatus.QUEUED,
    DownloadStatus.DOWNLOADING,
    DownloadStatus.PAUSED,
    DownloadStatus.VERIFYING,
    DownloadStatus.INSTALLING,
)


class StorageRows:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def all(self) -> list[StoredModel]:
        rows = await self._store.fetch_all(f"{SELECT} ORDER BY lower(m.name), m.id")
        return [stored_from_row(r) for r in rows]

    async def get(self, model_id: str) -> StoredModel:
        rows = await self._store.fetch_all(f"{SELECT} WHERE m.id = ?", (check_model_id(model_id),))
        if not rows:
            raise ModelNotFound(f"no installed model {model_id!r} (see `lexitui ls`)")
        return stored_from_row(rows[0])

    async def remove(self, model_ids: Iterable[str]) -> None:
        async with self._store.write() as conn:
            await conn.executemany(
                "DELETE FROM installed_models WHERE id = ?", [(i,) for i in model_ids]
            )

    async def set_facts(self, model_id: str, facts: HeaderFacts, size: int) -> None:
        """Cache the header facts; ``size`` (all parts of a split model) becomes the row's size,
        as the registry only sees the first part's."""
        async with self._store.write() as conn:
            await conn.execute(
                """
                INSERT INTO model_details (model_id, quantization, architecture,
                    parameter_count, context_length, base_model, facts_size)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(model_id) DO UPDATE SET quantization = excluded.quantization,
                    architecture = excluded.architecture,
                    parameter_count = excluded.parameter_count,
                    context_length = excluded.context_length,
                    base_model = excluded.base_model, facts_size = excluded.facts_size
                """,
                (
                    model_id,
                    facts.quantization,
                    facts.architecture,
                    facts.parameter_count,
                    facts.context_length,
                    facts.base_model,
                    size,
                ),
            )
            await conn.execute(
                "UPDATE installed_models SET size_bytes = ? WHERE id = ?", (size, model_id)
            )

    async def record_load(self, model_id: str, at: datetime) -> bool:
        return await self._record(model_id, "use_count", 1, at)

    async def record_time(self, model_id: str, seconds: float, at: datetime) -> bool:
        return await self._record(model_id, "total_seconds", max(0.0, seconds), at)

    async def _record(
        self, model_id: str, column: UsageColumn, amount: float, at: datetime
    ) -> bool:
        """Add ``amount`` to a usage column and stamp "last used"; a model that is not (or no
        longer) installed is left alone. True once a row changed and the change committed."""
        async with self._store.write() as conn:
            cursor = await conn.execute(
                "UPDATE installed_models SET last_used_at = ? WHERE id = ?",
                (at.astimezone(UTC).isoformat(), model_id),
            )
            if cursor.rowcount:
                await conn.execute(
                    f"INSERT INTO model_details (model_id, {column}) VALUES (?, ?) "
                    f"ON CONFLICT(model_id) DO UPDATE SET {column} = {column} + excluded.{column}",
                    (model_id, amount),
                )
        return bool(cursor.rowcount)

    async def reroot(self, old_root: str, new_root: str) -> int:
        """Point rows under ``old_root`` at the same place under ``new_root``; one transaction."""
        prefix = old_root.rstrip(os.sep) + os.sep
        rows = await self._store.fetch_all("SELECT id, path FROM installed_models")
        moved = [
            (new_root.rstrip(os.sep) + os.sep + r["path"][len(prefix) :], r["id"])
            for r in rows
            if str(r["path"]).startswith(prefix)
        ]
        if moved:
            async with self._store.write() as conn:
                await conn.executemany("UPDATE installed_models SET path = ? WHERE id = ?", moved)
        return len(moved)

    async def forget_library_file(self, path: str, source: str) -> None:
        async with self._store.write() as conn:
            await conn.execute(
                "INSERT OR REPLACE INTO library_forgotten (path, source, forgotten_at) "
                "VALUES (?, ?, ?)",
                (path, source, datetime.now(UTC).isoformat()),
            )

    async def forgotten_library_files(self) -> set[str]:
        rows = await self._store.fetch_all("SELECT path FROM library_forgotten")
        return {str(r["path"]) for r in rows}

    async def pending_downloads(self) -> list[str]:
        """Ids of downloads not finished yet (their partials must be kept)."""
        marks = ",".join("?" for _ in PENDING_DOWNLOADS)
        rows = await self._store.fetch_all(
            f"SELECT id FROM downloads WHERE status IN ({marks})",
            [s.value for s in PENDING_DOWNLOADS],
        )
        return [str(r["id"]) for r in rows]


SELECT = (
    "SELECT m.*, d.use_count, d.total_seconds, d.quantization, d.architecture, "
    "d.parameter_count, d.context_length, d.base_model, d.facts_size "
    "FROM installed_models m LEFT JOIN model_details d ON d.model_id = m.id"
)


def stored_from_row(row: aiosqlite.Row) -> StoredModel:
    model = installed_from_row(row)
    # Facts read at another size belong to a file that was since replaced: not shown.
    fresh = row["facts_size"] is not None and int(row["facts_size"]) == model.size_bytes
    facts = (
        HeaderFacts(
            quantization=row["quantization"],
            architecture=row["architecture"],
            parameter_count=row["parameter_count"],
            context_length=row["context_length"],
            base_model=row["base_model"],
        )
        if fresh
        else HeaderFacts()
    )
    return StoredModel(
        model=model,
        facts=facts,
        use_count=int(row["use_count"] or 0),
        total_usage_seconds=float(row["total_seconds"] or 0.0),
        facts_current=fresh,
    )

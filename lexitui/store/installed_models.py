"""The installed-model registry: rows in the store that point at model files on disk."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from lexitui.domain.enums import ModelFormat
from lexitui.domain.models import InstalledModel, check_model_id
from lexitui.store import Store


class ModelNotFound(LookupError):
    pass


class ModelRegistry:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def list(self) -> list[InstalledModel]:
        rows = await self._store.fetch_all("SELECT * FROM installed_models ORDER BY name")
        return [installed_from_row(r) for r in rows]

    async def get(self, model_id: str) -> InstalledModel:
        rows = await self._store.fetch_all(
            "SELECT * FROM installed_models WHERE id = ?", (check_model_id(model_id),)
        )
        if not rows:
            raise ModelNotFound(f"no installed model {model_id!r} (see `lexitui ls`)")
        return installed_from_row(rows[0])

    async def add(
        self,
        model_id: str,
        name: str,
        path: Path,
        *,
        source: str,
        registered_by_path: bool,
        model_format: ModelFormat = ModelFormat.GGUF,
    ) -> InstalledModel:
        """Insert or refresh a row; returns the stored model."""
        check_model_id(model_id)
        now = datetime.now(UTC).isoformat()
        async with self._store.write() as conn:
            await conn.execute(
                """
                INSERT INTO installed_models
                    (id, name, path, format, size_bytes, source, registered_by_path, installed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET
                    name = excluded.name, path = excluded.path, size_bytes = excluded.size_bytes
                """,
                (
                    model_id,
                    name,
                    str(path),
                    model_format.value,
                    path.stat().st_size,
                    source,
                    int(registered_by_path),
                    now,
                ),
            )
        return await self.get(model_id)

    async def touch(self, model_id: str) -> None:
        async with self._store.write() as conn:
            await conn.execute(
                "UPDATE installed_models SET last_used_at = ? WHERE id = ?",
                (datetime.now(UTC).isoformat(), model_id),
            )


def installed_from_row(row: aiosqlite.Row) -> InstalledModel:
    """One ``installed_models`` row (the columns of any query that selects them) as a record."""
    last = row["last_used_at"]
    return InstalledModel(
        id=row["id"],
        name=row["name"],
        path=row["path"],
        format=ModelFormat(row["format"]),
        size_bytes=int(row["size_bytes"]),
        source=row["source"],
        registered_by_path=bool(row["registered_by_path"]),
        installed_at=datetime.fromisoformat(row["installed_at"]),
        last_used_at=datetime.fromisoformat(last) if last else None,
    )

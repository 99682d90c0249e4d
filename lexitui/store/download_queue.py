"""The download queue: where Discover hands a chosen variant, kept in the store.

A queued download survives a restart (its row holds the whole ``ModelDownload`` record as JSON).
Asking twice for the same variant returns the download already queued instead of a second one.
File names come from a remote registry, so they are checked before anything is queued (P1/P4):
the downloader joins them under the model store and must never be handed a path that escapes it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import PurePosixPath

from lexitui.domain.discovery import ModelVariant, RemoteModel
from lexitui.domain.downloads import DownloadOptions, ModelDownload
from lexitui.domain.enums import DownloadStatus
from lexitui.domain.from_json import from_json_dict
from lexitui.domain.models import InstalledModel
from lexitui.events import EventBus, ModelDownloadQueued
from lexitui.store import Store
from lexitui.store.database import StoreError, StoreFull
from lexitui.store.installed_models import installed_from_row

# Not finished: asking again for the same variant joins these rather than starting anew (a
# process killed while verifying must find its partial again under the same id).
ACTIVE = (
    DownloadStatus.QUEUED,
    DownloadStatus.DOWNLOADING,
    DownloadStatus.PAUSED,
    DownloadStatus.VERIFYING,
    DownloadStatus.INSTALLING,
)


# Raises when a new download may not be queued, given the installed models and every download
# (the editions' limits); it runs inside the queue's write transaction.
Admit = Callable[[ModelDownload, Sequence[InstalledModel], Sequence[ModelDownload]], None]


class DownloadRequestError(ValueError):
    pass


def check_remote_path(name: str) -> str:
    """A repo-relative file name that stays inside whatever folder it is joined to."""
    path = PurePosixPath(name)
    if (
        not name
        or "\\" in name
        or "\x00" in name
        or path.is_absolute()
        or ".." in path.parts
        or (len(name) > 1 and name[1] == ":")
        or any(ord(c) < 32 for c in name)
    ):
        raise DownloadRequestError(f"refusing unsafe file name {name!r} from the registry")
    return name


class DownloadQueue:
    def __init__(self, store: Store, bus: EventBus) -> None:
        self._store = store
        self._bus = bus

    def note_said(self, error: StoreError) -> None:
        """``error`` has been shown to the user: a full disk need not be said again."""
        if isinstance(error, StoreFull):
            self._store.full_said = True

    async def enqueue(
        self,
        model: RemoteModel,
        variant: ModelVariant,
        options: DownloadOptions | None = None,
        *,
        require_size: bool = True,
        admit: Admit | None = None,
    ) -> ModelDownload:
        """``require_size=False`` admits a plain URL whose server does not say its size;
        ``admit`` may refuse a new download (joining one already queued is never refused)."""
        for name in variant.files or (variant.filename,):
            check_remote_path(name)
        if require_size and variant.size_bytes <= 0:
            raise DownloadRequestError(f"{variant.filename}: the registry gave no size")
        download = ModelDownload(
            id=uuid.uuid4().hex,
            model=_without_variants(model),
            variant=variant,
            status=DownloadStatus.QUEUED,
            total_bytes=variant.size_bytes,
            queued_at=datetime.now(UTC),
            options=options or DownloadOptions(),
        )
        # Look and insert in one write transaction: two instances asked for the same variant at
        # the same moment must end up with one download (the second joins the first), never two
        # that each fetch the whole file.
        async with self._store.write() as conn:
            marks = ",".join("?" for _ in ACTIVE)
            async with conn.execute(
                f"SELECT record FROM downloads WHERE model_id = ? AND variant_id = ?"
                f" AND status IN ({marks}) ORDER BY queued_at LIMIT 1",
                (model.id, variant.variant_id, *[s.value for s in ACTIVE]),
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None:
                return from_json_dict(ModelDownload, json.loads(row["record"]))
            if admit is not None:
                async with conn.execute("SELECT * FROM installed_models") as cursor:
                    installed = [installed_from_row(r) for r in await cursor.fetchall()]
                async with conn.execute("SELECT record FROM downloads") as cursor:
                    records = [json.loads(r["record"]) for r in await cursor.fetchall()]
                admit(download, installed, [from_json_dict(ModelDownload, r) for r in records])
            await conn.execute(
                "INSERT INTO downloads (id, model_id, variant_id, status, queued_at, record)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    download.id,
                    model.id,
                    variant.variant_id,
                    download.status.value,
                    download.queued_at.isoformat(),
                    json.dumps(download.to_json_dict()),
                ),
            )
        self._bus.publish(
            ModelDownloadQueued(download.id, model.id, variant.variant_id, variant.size_bytes)
        )
        return download

    async def list(self) -> list[ModelDownload]:
        rows = await self._store.fetch_all("SELECT record FROM downloads ORDER BY queued_at")
        return [from_json_dict(ModelDownload, json.loads(r["record"])) for r in rows]

    async def get(self, download_id: str) -> ModelDownload | None:
        rows = await self._store.fetch_all(
            "SELECT record FROM downloads WHERE id = ?", (download_id,)
        )
        return from_json_dict(ModelDownload, json.loads(rows[0]["record"])) if rows else None

    async def save(self, download: ModelDownload) -> None:
        """Store a download's new state (the downloader moves it through its statuses)."""
        async with self._store.write() as conn:
            await conn.execute(
                "UPDATE downloads SET status = ?, record = ? WHERE id = ?",
                (download.status.value, json.dumps(download.to_json_dict()), download.id),
            )


def _without_variants(model: RemoteModel) -> RemoteModel:
    """The queue keeps the chosen variant; the model's full list would only bloat the row."""
    return replace(model, variants=(), recommended_variant=None)

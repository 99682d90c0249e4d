"""Turning a library scan into registry rows: add what is new, refresh what moved or changed,
remove rows whose file is gone (or no longer a valid model).

Rows from other sources are never touched: a library id that an installed model already uses
is reported and skipped, and files the user asked to forget stay forgotten.
"""

from __future__ import annotations

from pathlib import Path

from lexitui.domain.storage import LIBRARY_SOURCES, StoredModel
from lexitui.storage.library_records import LibraryModel, LibraryScan, LibrarySync, SkippedFile
from lexitui.store.installed_models import ModelRegistry
from lexitui.store.model_rows import StorageRows


async def sync_library(
    scan: LibraryScan, registry: ModelRegistry, rows: StorageRows
) -> LibrarySync:
    existing = {m.id: m for m in await rows.all()}
    forgotten = await rows.forgotten_library_files()
    added: list[str] = []
    updated: list[str] = []
    passed: list[SkippedFile] = []
    kept: set[str] = set()
    for found in scan.models:
        if found.path in forgotten:
            passed.append(SkippedFile(found.source, found.path, "forgotten by the user"))
            continue
        row = existing.get(found.model_id)
        if row is not None and row.model.source != found.source:
            reason = f"id {found.model_id} is taken by a {row.model.source} model"
            passed.append(SkippedFile(found.source, found.path, reason))
            continue
        kept.add(found.model_id)
        if row is not None and _unchanged(row, found):
            continue
        await registry.add(
            found.model_id,
            found.name,
            Path(found.path),
            source=found.source,
            registered_by_path=True,
        )
        await rows.set_facts(found.model_id, found.facts, found.size_bytes)
        (updated if row is not None else added).append(found.model_id)
    gone = [
        model_id
        for model_id, row in existing.items()
        if row.model.source in LIBRARY_SOURCES and model_id not in kept
    ]
    if gone:
        await rows.remove(gone)
    return LibrarySync(scan, tuple(added), tuple(updated), tuple(gone), tuple(passed))


def _unchanged(row: StoredModel, found: LibraryModel) -> bool:
    return (
        row.model.path == found.path
        and row.size_bytes == found.size_bytes
        and row.model.name == found.name
        and row.facts_current
    )

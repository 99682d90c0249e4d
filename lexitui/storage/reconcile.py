"""Start-up reconciliation of rows and files (checklist S5).

- A row whose file is gone is removed (a deleted Ollama model, a cleared HF cache, a blob lost
  to a crash); for a model lexitui installed, its manifest and folder go with it.
- A manifest without a row, and a blob no manifest names, are leftovers of a crash between the
  steps of an install or a delete, and are removed. Not a manifest another host wrote, though:
  on a store shared by hosts that is their model (``lexitui storage sync`` adopts it here).

Another lexitui may be installing right now (blob renamed in, manifest written, row next), so
leftovers younger than a grace period are kept and reported, never raced.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from lexitui.domain.storage import ReconcileReport
from lexitui.downloads.layout import StoreLayout
from lexitui.storage.shared_store import written_elsewhere
from lexitui.storage.store_files import (
    Removal,
    blob_digests,
    carry_out,
    manifest_ids,
    plan_removal,
    referenced_digests,
)
from lexitui.store.model_rows import StorageRows

GRACE_S = 600.0


async def reconcile(
    layout: StoreLayout,
    rows: StorageRows,
    *,
    grace_s: float = GRACE_S,
    clock: Callable[[], float] = time.time,
) -> ReconcileReport:
    models = await rows.all()
    gone = [m for m in models if not os.path.exists(m.model.path)]
    if gone:
        await rows.remove(m.id for m in gone)
    for m in gone:
        if not m.shared:
            carry_out(_without_blobs(plan_removal(layout, m.id, m.model.path), layout))
    known = {m.id for m in models} - {m.id for m in gone}
    for model_id in manifest_ids(layout):
        if model_id in known or written_elsewhere(layout, model_id):
            continue
        if _older(layout.manifest_path(model_id), grace_s, clock):
            carry_out(_without_blobs(plan_removal(layout, model_id, ""), layout))
    wanted = referenced_digests(layout)
    removed: list[str] = []
    young: list[str] = []
    freed = 0
    for digest in blob_digests(layout):
        if digest in wanted:
            continue
        blob = layout.blob_path(digest)
        if not _older(blob, grace_s, clock):
            young.append(blob.name)
            continue
        with contextlib.suppress(FileNotFoundError):
            info = os.lstat(blob)
            os.unlink(blob)
            removed.append(blob.name)
            freed += info.st_size if info.st_nlink == 1 else 0
    return ReconcileReport(tuple(m.id for m in gone), tuple(removed), freed, tuple(young))


def _without_blobs(removal: Removal, layout: StoreLayout) -> Removal:
    """The blobs are left to the sweep below, which counts and reports them."""
    kept = tuple(f for f in removal.files if f.parent != layout.blobs_dir)
    return replace(removal, files=kept)


def _older(path: Path, grace_s: float, clock: Callable[[], float]) -> bool:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    # ctime moves on rename: a blob renamed in a moment ago is young whatever its mtime.
    return clock() - max(info.st_mtime, info.st_ctime) > grace_s

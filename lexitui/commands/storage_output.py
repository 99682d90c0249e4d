"""What the storage commands print for people. Every file name and model name went through
``safe_text`` (they come from other tools' folders and GGUF headers, G7)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from lexitui.domain.storage import CleanupSuggestion, StorageInfo, VerifyReport
from lexitui.domain.units import format_bytes
from lexitui.gguf.text import safe_text
from lexitui.storage.library_records import LibraryScan, LibrarySync, SkippedFile
from lexitui.storage.shared_store import SharedSync


def print_info(info: StorageInfo) -> None:
    used = info.total_disk_bytes - info.free_disk_bytes
    print(f"model store   {safe_text(info.storage_path)}")
    if info.store_mount is not None:
        print(f"file system   models on {safe_text(info.store_mount)}")
    print(
        f"disk          {format_bytes(info.free_disk_bytes)} free of "
        f"{format_bytes(info.total_disk_bytes)} ({format_bytes(used)} used)"
    )
    print(f"models        {format_bytes(info.used_by_models_bytes)} in lexitui's store")
    print(f"downloads     {format_bytes(info.used_by_downloads_bytes)} in partial downloads")
    print(f"temp          {format_bytes(info.used_by_temp_bytes)}")
    print(
        f"shared        {info.shared_model_count} models, "
        f"{format_bytes(info.shared_library_bytes)} in other tools' folders"
    )
    print(
        f"installed     {info.installed_model_count} models, "
        f"{info.pending_download_count} downloads pending"
    )
    if info.is_low_on_space:
        print(
            f"LOW ON SPACE: keep at least {format_bytes(info.recommended_free_bytes)} free "
            "(see `lexitui cleanup --dry-run --free SIZE`)"
        )


def print_verify(reports: Sequence[VerifyReport]) -> None:
    for r in reports:
        if r.ok:
            checked = "sha256 matches" if r.expected_sha256 else "hashed, no digest to compare"
            detail = checked if r.computed_sha256 else "header ok"
            print(f"ok      {r.model_id}  ({detail})")
        else:
            print(f"FAILED  {r.model_id}  {r.error}")


def print_suggestions(
    suggestions: Sequence[CleanupSuggestion], *, deleted: bool, dry_run: bool
) -> None:
    if not suggestions:
        print("no models to suggest for deletion")
        return
    verb = "deleted" if deleted else ("would delete" if dry_run else "suggested")
    for s in suggestions:
        print(
            f"{verb:<13} {s.model.id}  frees {format_bytes(s.freeable_bytes)}  "
            f"[{s.reason.value}] {s.explanation}"
        )


def print_library(scan: LibraryScan, registered: Collection[str]) -> None:
    _roots(scan)
    for m in scan.models:
        state = "listed" if m.model_id in registered else "new"
        quant = m.facts.quantization or "?"
        print(f"{state:<7} {m.model_id}  {format_bytes(m.size_bytes)}  {quant}  {m.label}")
    _skipped(scan.skipped)
    if any(m.model_id not in registered for m in scan.models):
        print("run `lexitui library --scan` to list the new ones as installed models")


def print_sync(synced: LibrarySync) -> None:
    _roots(synced.scan)
    for title, ids in (
        ("added", synced.added),
        ("updated", synced.updated),
        ("removed", synced.removed),
    ):
        for model_id in ids:
            print(f"{title:<8} {model_id}")
    print(
        f"{len(synced.scan.models)} models found: {len(synced.added)} added, "
        f"{len(synced.updated)} updated, {len(synced.removed)} removed"
    )
    own = synced.reconciled
    for model_id in own.removed_rows:
        print(f"removed  {model_id} (its file is gone)")
    if own.removed_blobs:
        print(
            f"removed  {len(own.removed_blobs)} blobs no model uses "
            f"({format_bytes(own.freed_bytes)})"
        )
    _skipped((*synced.scan.skipped, *synced.skipped))


def _roots(scan: LibraryScan) -> None:
    for root in scan.roots:
        state = "" if root.exists else "  (not there)"
        print(f"# {root.source:<9} {safe_text(root.path)}{state}")


def _skipped(skipped: Sequence[SkippedFile]) -> None:
    for s in skipped:
        print(f"skipped {safe_text(s.path)}: {safe_text(s.reason)}")


def print_shared_sync(synced: SharedSync) -> None:
    print(f"models on {safe_text(synced.mount or 'an unknown file system')}")
    for model_id in synced.registered:
        print(f"registered  {model_id}  (sha256 checked)")
    for model_id in synced.busy:
        print(f"busy        {model_id}  (being written; sync again when it is done)")
    for refused in synced.refused:
        print(f"REFUSED     {refused.model_id}  from {safe_text(refused.host)}: {refused.reason}")
    if not (synced.registered or synced.busy or synced.refused):
        print("nothing new from other hosts")

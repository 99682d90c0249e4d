"""The Models gauge's disk line says when the store lies on a file system shared by hosts."""

from __future__ import annotations

from lexitui.domain.storage import StorageInfo
from lexitui.ui.widgets.storage_gauge import disk_line

GIB = 1 << 30


def info(mount: str | None, shared: bool) -> StorageInfo:
    return StorageInfo(
        storage_path="/mnt/models",
        total_disk_bytes=1000 * GIB,
        free_disk_bytes=400 * GIB,
        used_by_models_bytes=0,
        used_by_downloads_bytes=0,
        used_by_temp_bytes=0,
        store_mount=mount,
        store_is_shared=shared,
    )


def test_a_shared_store_is_named_on_the_disk_line() -> None:
    line = disk_line(info("nfs4 server:/export (shared)", True), 120).plain
    assert line.endswith("  models on nfs4 server:/export (shared)"), line


def test_a_local_store_keeps_the_line_as_it_was() -> None:
    local = disk_line(info("ext4 /dev/sda2 (this host only)", False), 120).plain
    assert local == disk_line(info(None, False), 120).plain
    assert "models on" not in local

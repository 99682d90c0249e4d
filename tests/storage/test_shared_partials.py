"""Cleanup on a store shared by hosts: another host's ``flock`` may not reach this one, so a
partial written to within the lock lease is taken to be in use there and kept."""

from __future__ import annotations

from pathlib import Path

from lexitui.downloads.layout import StoreLayout
from lexitui.files.mounts import parse_mountinfo
from lexitui.storage.shared_store import cleanup_partials_here


def mounted_as(fstype: str, point: Path, source: str) -> str:
    return (
        "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
        f"61 22 0:52 / {point} rw,relatime shared:30 - {fstype} {source} rw\n"
    )


def store_with_a_fresh_partial(tmp_path: Path) -> StoreLayout:
    layout = StoreLayout(tmp_path / "store")
    layout.ensure()
    (layout.downloads_dir / "abcdef0123.partial").write_bytes(b"x" * 100)
    (layout.downloads_dir / "abcdef0123.meta").write_text("{}")
    return layout


def test_a_fresh_partial_on_nfs_is_kept_for_the_host_writing_it(tmp_path: Path) -> None:
    layout = store_with_a_fresh_partial(tmp_path)
    nfs = parse_mountinfo(mounted_as("nfs4", tmp_path, "fileserver:/export"))
    result = cleanup_partials_here(layout, (), nfs)
    assert result.in_use == ("abcdef0123.partial",) and result.deleted_files == ()
    assert (layout.downloads_dir / "abcdef0123.partial").exists()


def test_on_a_local_disk_an_unlocked_partial_nobody_resumes_goes(tmp_path: Path) -> None:
    layout = store_with_a_fresh_partial(tmp_path)
    local = parse_mountinfo(mounted_as("ext4", tmp_path, "/dev/nvme0n1p3"))
    result = cleanup_partials_here(layout, (), local)
    assert set(result.deleted_files) == {"abcdef0123.partial", "abcdef0123.meta"}

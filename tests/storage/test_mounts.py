"""Which file system holds the model store, read from recorded ``/proc/self/mountinfo`` texts."""

from __future__ import annotations

from pathlib import Path

from lexitui.files.mounts import mount_of, parse_mountinfo, store_mount

# A workstation with the models on NFS, a CIFS share, sshfs, and a local disk mounted below the
# NFS export (the longest mount point wins); one mount point has a space in it.
MOUNTINFO = """\
22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
25 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
61 22 0:52 / /mnt/models rw,relatime shared:30 - nfs4 fileserver:/export/models rw,vers=4.2
62 61 259:3 / /mnt/models/scratch rw,relatime shared:31 - ext4 /dev/nvme0n1p3 rw
63 22 0:53 / /srv/team\\040share rw,relatime shared:32 - cifs //nas/team rw,vers=3.1.1
64 22 0:54 / /home/ann/remote rw,nosuid,nodev shared:33 - fuse.sshfs ann@gpu2:/data rw
65 22 0:55 / /lustre rw shared:34 - lustre 10.0.0.5@tcp:/scratch rw
garbage line without a separator
"""


def test_the_longest_mount_point_above_the_store_is_its_file_system() -> None:
    mounts = parse_mountinfo(MOUNTINFO)
    found = mount_of(Path("/mnt/models/lexitui"), mounts)
    assert found is not None and found.describe() == "nfs4 fileserver:/export/models (shared)"
    below = mount_of(Path("/mnt/models/scratch/lexitui"), mounts)
    assert below is not None and below.describe() == "ext4 /dev/nvme0n1p3 (this host only)"
    # A name that only starts like a mount point is not inside it.
    beside = mount_of(Path("/mnt/models-old/x"), mounts)
    assert beside is not None and beside.mount_point == "/"


def test_network_file_systems_are_told_from_local_ones() -> None:
    mounts = parse_mountinfo(MOUNTINFO)
    shared = {m.mount_point: m.is_network for m in mounts}
    assert shared == {
        "/": False,
        "/proc": False,
        "/mnt/models": True,
        "/mnt/models/scratch": False,
        "/srv/team share": True,  # \\040 is a space
        "/home/ann/remote": True,
        "/lustre": True,
    }
    share = mount_of(Path("/srv/team share/models"), mounts)
    assert share is not None and share.describe() == "cifs //nas/team (shared)"


def test_a_store_not_made_yet_reads_its_nearest_existing_folder(tmp_path: Path) -> None:
    found = store_mount(tmp_path / "not" / "yet")
    assert found is not None and str(tmp_path).startswith(found.mount_point)

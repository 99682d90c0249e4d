"""Which file system a folder lies on, and whether it is a network one shared by hosts.

Read from ``/proc/self/mountinfo`` (exact mount points, with spaces escaped as ``\\040``), or from
psutil's partition list where that file does not exist (macOS, the BSDs). The mount holding a
folder is the one with the longest mount point that is a prefix of its real path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MOUNTINFO = Path("/proc/self/mountinfo")
# Kernel and FUSE type names of file systems that several hosts mount at once.
NETWORK_TYPES = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb",
        "smb2",
        "smb3",
        "smbfs",
        "ceph",
        "fuse.ceph",
        "fuse.ceph-fuse",
        "glusterfs",
        "fuse.glusterfs",
        "fuse.sshfs",
        "sshfs",
        "9p",
        "lustre",
        "beegfs",
        "gpfs",
        "ocfs2",
        "gfs2",
        "afs",
        "fuse.juicefs",
        "fuse.s3fs",
        "davfs",
        "fuse.davfs2",
        "webdav",
    }
)


@dataclass(frozen=True)
class Mount:
    mount_point: str
    fstype: str
    source: str  # "server:/export", "//nas/models", "/dev/nvme0n1p2"

    @property
    def is_network(self) -> bool:
        return self.fstype.lower() in NETWORK_TYPES

    def describe(self) -> str:
        """``nfs4 server:/export (shared)``; ``ext4 /dev/sda1 (this host only)``."""
        where = "shared" if self.is_network else "this host only"
        return f"{self.fstype} {self.source} ({where})"


def parse_mountinfo(text: str) -> list[Mount]:
    """The mounts a ``/proc/PID/mountinfo`` text lists (malformed lines are skipped)."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        dash = fields.index("-")
        if dash < 5 or len(fields) < dash + 3:
            continue
        mounts.append(
            Mount(_unescape(fields[4]), _unescape(fields[dash + 1]), _unescape(fields[dash + 2]))
        )
    return mounts


def mount_of(path: Path, mounts: list[Mount]) -> Mount | None:
    """The mount holding ``path``: the longest mount point above it (the last one mounted wins
    a tie, as the kernel stacks them)."""
    target = os.path.normpath(str(path))
    best: Mount | None = None
    for mount in mounts:
        point = os.path.normpath(mount.mount_point)
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(os.path.normpath(best.mount_point))):
            best = mount
    return best


def current_mounts() -> list[Mount]:
    try:
        return parse_mountinfo(MOUNTINFO.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        import psutil

        return [Mount(p.mountpoint, p.fstype, p.device) for p in psutil.disk_partitions(all=True)]


def store_mount(folder: Path, mounts: list[Mount] | None = None) -> Mount | None:
    """The mount of ``folder`` (or of its nearest existing parent, before it is made)."""
    path = folder.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return mount_of(Path(os.path.realpath(path)), current_mounts() if mounts is None else mounts)


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes (``\\040``)."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        chunk = field[i + 1 : i + 4]
        if field[i] == "\\" and len(chunk) == 3 and all(c in "01234567" for c in chunk):
            out.append(chr(int(chunk, 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)

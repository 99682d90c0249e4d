"""The ``.meta`` file beside a partial: which bytes are there, and of which remote file.

Written to a temporary file, fsynced, then renamed over the old one (D7): a ``kill -9`` or a
power cut leaves either the old meta or the new one, never half of one. The meta only ever
claims bytes that were fsynced into the partial before it was written, so whatever it lists is
on disk. A meta that cannot be read is treated as absent: the partial starts over, which costs
bytes but never installs a wrong file.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lexitui.downloads.ranges import RangeSet
from lexitui.files.atomic import write_atomic

FORMAT = 1
MAX_META_BYTES = 1 << 20


@dataclass(frozen=True)
class Identity:
    """What a remote file is: the bytes of a partial are only reused for the same identity."""

    size: int | None
    sha256: str | None  # from the registry (the Hub's X-Linked-Etag)
    etag: str | None  # the data server's strong validator, sent back as If-Range

    def same_file(self, other: Identity) -> bool:
        """Same size where both know it, and the same hash, else the same ETag (D3).

        With nothing to compare, old bytes are not trusted: a changed file would splice."""
        if self.size is not None and other.size is not None and self.size != other.size:
            return False
        if self.sha256 and other.sha256:
            return self.sha256 == other.sha256
        if self.etag and other.etag:
            return self.etag == other.etag
        return False


@dataclass
class PartialMeta:
    identity: Identity
    done: RangeSet
    source: str = ""  # the URL without its query, for people reading the folder

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "size": self.identity.size,
            "sha256": self.identity.sha256,
            "etag": self.identity.etag,
            "done": self.done.to_json(),
            "source": self.source,
        }


def save_meta(path: Path, meta: PartialMeta) -> None:
    """Atomically replace ``path`` (see ``atomic.write_atomic``)."""
    write_atomic(path, json.dumps(meta.to_json(), separators=(",", ":")).encode())


def load_meta(path: Path) -> PartialMeta | None:
    """The meta at ``path``, or None when it is missing, a symlink (P3) or unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ELOOP):
            return None
        raise
    try:
        raw = os.read(fd, MAX_META_BYTES + 1)
    finally:
        os.close(fd)
    if len(raw) > MAX_META_BYTES:
        return None
    try:
        return _parse(json.loads(raw))
    except (ValueError, TypeError, KeyError):
        return None


def delete_meta(path: Path) -> None:
    for name in (path, path.with_name(path.name + ".tmp")):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def _parse(data: Any) -> PartialMeta | None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    size, sha256, etag = data["size"], data["sha256"], data["etag"]
    if size is not None and (not isinstance(size, int) or size < 0):
        return None
    if not all(v is None or isinstance(v, str) for v in (sha256, etag)):
        return None
    done = RangeSet()
    for pair in data["done"]:
        start, end = pair
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end):
            return None
        done.add(start, end)
    source = data.get("source")
    return PartialMeta(
        Identity(size, sha256, etag), done, source if isinstance(source, str) else ""
    )

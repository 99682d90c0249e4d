"""Reading the header of a GGUF file on disk, never its tensor data."""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

from lexitui.domain.units import MIB
from lexitui.gguf.errors import GgufError
from lexitui.gguf.header import parse_header
from lexitui.gguf.limits import DEFAULT_LIMITS, GgufLimits
from lexitui.gguf.records import GgufHeader
from lexitui.gguf.text import safe_text

# Local reads are cheap, so start big: most headers (a few MiB) take one to three reads.
LOCAL_FIRST_READ = 1 * MIB
LOCAL_MAX_READ = 8 * MIB


class FileSource:
    """A ``ByteSource`` over an open file whose size is known, so truncation is always caught."""

    def __init__(self, file: BinaryIO, size: int) -> None:
        self._file = file
        self._size = size

    @property
    def size(self) -> int:
        return self._size

    def read(self, offset: int, size: int) -> bytes:
        self._file.seek(offset)
        pieces: list[bytes] = []
        while size > 0:  # a raw read may return short before the end of the file
            piece = self._file.read(size)
            if not piece:
                break
            pieces.append(piece)
            size -= len(piece)
        return b"".join(pieces)


def read_local_header(
    path: str | os.PathLike[str], *, limits: GgufLimits = DEFAULT_LIMITS
) -> GgufHeader:
    """Parse and validate the header of the GGUF file at ``path``.

    Every failure, including a missing or unreadable file, is a GgufError naming the path, so a
    CLI prints one line.
    """
    shown = safe_text(os.fspath(path))
    try:
        # O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer that never comes;
        # the fstat below then refuses it. Reads of a regular file ignore the flag.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb", buffering=0) as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise GgufError(f"{shown}: not a regular file ({_kind(info.st_mode)})")
            source = FileSource(file, info.st_size)
            return parse_header(
                source, limits=limits, first_read=LOCAL_FIRST_READ, max_read=LOCAL_MAX_READ
            )
    except OSError as exc:
        raise GgufError(f"cannot read {shown}: {exc.strerror or exc}") from exc
    except GgufError as exc:
        if str(exc).startswith(shown):
            raise
        raise GgufError(f"{shown}: {exc}") from None


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"

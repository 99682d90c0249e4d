"""Forward-only, buffered reading of a GGUF header from any ``ByteSource``.

The parser walks the header with ``struct.unpack_from`` over a buffer that this cursor refills in
growing blocks (``first_read`` bytes, doubling up to ``max_read``). So a local file is read in a
handful of large reads, a remote one in a handful of growing Range requests, and bytes read
beyond the header stay under one block. Offsets only ever move forward, which lets a remote
source stream a server's whole-file answer instead of re-requesting.
"""

from __future__ import annotations

import struct
from typing import Protocol

from lexitui.domain.units import MIB
from lexitui.gguf.errors import GgufError

U32 = struct.Struct("<I")
U64 = struct.Struct("<Q")


class ByteSource(Protocol):
    """Random-access bytes: a file, or a URL read with HTTP Range requests."""

    @property
    def size(self) -> int | None:
        """Total size in bytes when known (a remote one may learn it on its first read)."""
        ...

    def read(self, offset: int, size: int) -> bytes:
        """``size`` bytes from ``offset``; fewer only at the end of the file."""
        ...


def _mib(n: int) -> str:
    return f"{n / MIB:g} MiB" if n >= MIB else f"{n} bytes"


class Cursor:
    """A position in a ``ByteSource`` plus the buffered bytes around it.

    ``buf[pos:]`` holds the bytes at file offset ``base + pos`` onwards. Hot loops read ``buf``
    and ``pos`` directly and call ``need``/``skip`` only at block boundaries.
    """

    __slots__ = ("_max_offset", "_max_read", "_next_read", "_source", "base", "buf", "pos")

    def __init__(
        self, source: ByteSource, *, max_offset: int, first_read: int, max_read: int
    ) -> None:
        self._source = source
        self._max_offset = max_offset  # the header-size limit
        self._next_read = max(1, first_read)
        self._max_read = max(self._next_read, max_read)
        self.buf = b""
        self.base = 0
        self.pos = 0

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def remaining(self) -> int | None:
        """Bytes left in the source after the current offset, when its size is known."""
        size = self._source.size
        return None if size is None else size - self.offset

    def need(self, n: int) -> None:
        """Make ``buf[pos:pos + n]`` available, or raise GgufError if the file ends first."""
        if self.pos + n > len(self.buf):
            self._fill(n)

    def _check_limit(self, end: int) -> None:
        if end > self._max_offset:
            raise GgufError(
                f"GGUF header is larger than the {_mib(self._max_offset)} limit "
                f"(it runs past byte {self._max_offset})"
            )

    def _fill(self, n: int) -> None:
        start = self.offset
        self._check_limit(start + n)
        kept = self.buf[self.pos :]
        read_from = start + len(kept)
        want = max(n - len(kept), self._next_read)
        want = min(want, self._max_offset - read_from)  # never read past the header limit
        size = self._source.size
        if size is not None:
            want = min(want, size - read_from)
        chunk = self._source.read(read_from, want) if want > 0 else b""
        self._next_read = min(self._next_read * 2, self._max_read)
        self.buf = kept + chunk if kept else chunk
        self.base, self.pos = start, 0
        if len(self.buf) < n:
            raise GgufError(f"truncated GGUF header at byte {start + len(self.buf)}")

    def skip(self, n: int) -> None:
        """Move ``n`` bytes forward without keeping them (and, when possible, reading them)."""
        if self.pos + n <= len(self.buf):
            self.pos += n
            return
        target = self.offset + n
        self._check_limit(target)
        size = self._source.size
        if size is not None:
            if target > size:
                raise GgufError(f"truncated GGUF header at byte {size}")
            self.buf, self.base, self.pos = b"", target, 0  # the next read starts at target
            return
        # Size unknown: read through, so a file that ends inside the skipped part is noticed.
        left = n - (len(self.buf) - self.pos)
        self.pos = len(self.buf)
        while left > 0:
            step = min(left, self._max_read)
            self.need(step)
            self.pos += step
            left -= step

    def u32(self) -> int:
        self.need(4)
        (value,) = U32.unpack_from(self.buf, self.pos)
        self.pos += 4
        return int(value)

    def u64(self) -> int:
        self.need(8)
        (value,) = U64.unpack_from(self.buf, self.pos)
        self.pos += 8
        return int(value)

    def take(self, n: int) -> bytes:
        self.need(n)
        data = self.buf[self.pos : self.pos + n]
        self.pos += n
        return data

    def skip_strings(self, count: int, max_bytes: int) -> None:
        """Skip ``count`` GGUF strings (u64 length + bytes) without building str objects.

        This is the hot loop of a header read: a vocabulary is ~50k-250k strings. Each length is
        still checked against ``max_bytes`` and the file end; their UTF-8 is not validated (see
        ``header.py`` for why).
        """
        unpack = U64.unpack_from
        buf, pos, end = self.buf, self.pos, len(self.buf)
        for _ in range(count):
            if pos + 8 > end:
                self.pos = pos
                self.need(8)
                buf, pos, end = self.buf, self.pos, len(self.buf)
            (length,) = unpack(buf, pos)
            if length > max_bytes:
                self.pos = pos
                raise GgufError(
                    f"string of {length} bytes at byte {self.offset} exceeds the "
                    f"{_mib(max_bytes)} limit"
                )
            pos += 8 + length
            if pos > end:  # the string runs past the buffer: skip the rest of it
                self.pos = pos - length
                self.skip(length)
                buf, pos, end = self.buf, self.pos, len(self.buf)
        self.pos = pos

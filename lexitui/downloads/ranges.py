"""The byte ranges of a file already on disk, and the chunks still to fetch.

Ranges are half-open ``[start, end)`` and kept merged and sorted, so the set stays small however
many pieces arrive out of order: the meta file lists it as the download's progress.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator


class RangeSet:
    def __init__(self, ranges: Iterable[tuple[int, int]] = ()) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        for start, end in ranges:
            self.add(start, end)

    def add(self, start: int, end: int) -> None:
        """Mark ``[start, end)`` as present, merging with neighbours it touches."""
        if end <= start:
            return
        # Every range ending at or after ``start`` and starting at or before ``end`` merges.
        first = bisect.bisect_left(self._ends, start)
        last = bisect.bisect_right(self._starts, end)
        if first < last:
            start = min(start, self._starts[first])
            end = max(end, self._ends[last - 1])
        self._starts[first:last] = [start]
        self._ends[first:last] = [end]

    def clip(self, size: int) -> None:
        """Forget anything at or past ``size`` (a partial shorter than its meta claims)."""
        kept = [(s, min(e, size)) for s, e in self if s < size]
        self._starts = [s for s, _ in kept]
        self._ends = [e for _, e in kept]

    def clear(self) -> None:
        self._starts.clear()
        self._ends.clear()

    def copy(self) -> RangeSet:
        return RangeSet(self)

    @property
    def total(self) -> int:
        return sum(e - s for s, e in self)

    def prefix_end(self) -> int:
        """Where the bytes present from offset 0 stop (0 when the first byte is missing)."""
        return self._ends[0] if self._starts and self._starts[0] == 0 else 0

    def end_of(self, offset: int) -> int:
        """The end of the range holding ``offset``; ``offset`` itself when it is missing."""
        index = bisect.bisect_right(self._starts, offset) - 1
        if index >= 0 and self._ends[index] > offset:
            return self._ends[index]
        return offset

    def covers(self, size: int) -> bool:
        return self.prefix_end() >= size

    def missing(self, size: int) -> list[tuple[int, int]]:
        """The gaps in ``[0, size)``."""
        gaps: list[tuple[int, int]] = []
        position = 0
        for start, end in self:
            if start >= size:
                break
            if start > position:
                gaps.append((position, start))
            position = max(position, end)
        if position < size:
            gaps.append((position, size))
        return gaps

    def to_json(self) -> list[list[int]]:
        return [[s, e] for s, e in self]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(zip(self._starts, self._ends, strict=True))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RangeSet) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"RangeSet({list(self)})"


def plan_chunks(gaps: Iterable[tuple[int, int]], chunk_size: int) -> list[tuple[int, int]]:
    """Cut the gaps into pieces of at most ``chunk_size`` bytes, in file order."""
    if chunk_size <= 0:
        raise ValueError("chunk size must be positive")
    pieces: list[tuple[int, int]] = []
    for start, end in gaps:
        pieces.extend((s, min(s + chunk_size, end)) for s in range(start, end, chunk_size))
    return pieces

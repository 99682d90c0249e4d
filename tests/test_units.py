"""One unit system for sizes: every screen and command writes a file's size the same way."""

from __future__ import annotations

import pytest

from lexitui.commands import gguf as gguf_cli
from lexitui.domain.units import format_bytes

STARTER_BYTES = 98_362_432  # the starter model's file


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1536, "1.5 KiB"),
        (STARTER_BYTES, "93.8 MiB"),
        (5 * 1024**3 + 300 * 1024**2, "5.3 GiB"),
        (3 * 1024**4, "3.0 TiB"),
        (None, "?"),
    ],
)
def test_sizes_are_written_in_binary_units_with_one_decimal(count: int | None, text: str) -> None:
    assert format_bytes(count) == text


def test_the_gguf_command_adds_the_exact_count_to_the_same_text() -> None:
    # Every other screen and command calls format_bytes itself; `lexitui gguf` adds the count.
    same = format_bytes(STARTER_BYTES)
    assert gguf_cli._size(STARTER_BYTES) == f"{same} (98,362,432 bytes)"

"""One unit system for sizes: every screen and command writes a file's size the same way."""

from __future__ import annotations

import pytest

from lexitui.commands import gguf as gguf_cli
from lexitui.commands import hardware as hardware_cli
from lexitui.discovery import compatibility_text
from lexitui.domain.units import format_bytes
from lexitui.downloads.space import human_bytes
from lexitui.hardware import budget
from lexitui.runtime import footprint, resources
from lexitui.ui.downloads import screen as downloads
from lexitui.ui.runtime import load_dialog as runtime_load
from lexitui.ui.widgets.fit import short_size

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


def test_every_formatter_in_the_ui_and_the_cli_writes_the_same_text() -> None:
    same = format_bytes(STARTER_BYTES)
    writers = [
        human_bytes,  # Models, the gauge, cleanup, storage commands
        short_size,  # Discover's variants
        downloads.size_cell,  # Downloads' progress and speed
        runtime_load.memory,  # the load dialog
        footprint._gib,  # load verdicts
        resources._gib,  # resource alerts
        compatibility_text._gib,  # fit explanations
        hardware_cli._gib,  # lexitui hw
        budget.gib,  # memory budget messages
    ]
    assert {writer(STARTER_BYTES) for writer in writers} == {same}
    assert gguf_cli._size(STARTER_BYTES) == f"{same} (98,362,432 bytes)"

"""How lexitui writes a number of bytes, in the TUI and the CLI alike: one unit system.

Binary units (a GiB is 1024 MiB, as memory and most model tools count) with one decimal, so a
file reads the same everywhere: ``93.9 MiB`` in the Models table, the Downloads progress, the
Discover variants and ``lexitui ls``, never ``94M`` here and ``98.4 MB`` there.
"""

from __future__ import annotations

KIB = 1024
MIB = 1024**2
GIB = 1024**3
UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def format_bytes(count: float | None) -> str:
    """``512 B``, ``1.5 KiB``, ``93.9 MiB``, ``4.9 GiB``; ``?`` when the size is not known."""
    if count is None:
        return "?"
    value = float(count)
    for unit in UNITS:
        if abs(value) < 1024 or unit == UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")

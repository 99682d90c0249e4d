"""Text gauges: a usage bar and a fixed-scale history line, as Rich ``Text``.

Both carry their meaning in the characters (bar length, block height), so they still read in 16
colours, with ``NO_COLOR``, or in a copied screen; colour only adds the warning level.
Textual's ``Sparkline`` scales to the series' own min and max, so a GPU idling at 3% draws as
full as one at 100%; hardware readings need a fixed scale (0-100%, 0 to the alert temperature).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

BLOCKS = "▁▂▃▄▅▆▇█"
WARN_AT = 0.75
ALERT_AT = 0.9


def level_style(fraction: float, warn: bool = True) -> str:
    """Green/yellow/red by how full; ``warn=False`` for readings where high is fine (load)."""
    if not warn:
        return "cyan"
    if fraction >= ALERT_AT:
        return "red"
    if fraction >= WARN_AT:
        return "yellow"
    return "green"


def usage_bar(fraction: float | None, width: int, *, warn: bool = True) -> Text:
    """``█████░░░░░`` filled to ``fraction`` (0-1); unknown readings draw as a dotted line."""
    if width <= 0:
        return Text()
    if fraction is None:
        return Text("·" * width, style="dim")
    fraction = min(1.0, max(0.0, fraction))
    filled = round(fraction * width)
    if fraction > 0 and filled == 0:
        filled = 1  # anything in use shows, however little
    bar = Text("█" * filled, style=level_style(fraction, warn))
    bar.append("░" * (width - filled), style="dim")
    return bar


def history_line(values: Sequence[float], width: int, ceiling: float, *, warn: bool = True) -> Text:
    """The last ``width`` values, newest on the right, each a block from 0 to ``ceiling``."""
    if width <= 0:
        return Text()
    recent = list(values)[-width:]
    line = Text("·" * (width - len(recent)), style="dim")  # no reading yet, not a zero
    for value in recent:
        fraction = min(1.0, max(0.0, value / ceiling)) if ceiling > 0 else 0.0
        block = BLOCKS[min(len(BLOCKS) - 1, int(fraction * len(BLOCKS)))]
        line.append(block, style=level_style(fraction, warn))
    return line

"""The Runtime area's resource alert line: what runs short now (RAM, VRAM, GPU heat) and what to
do about it, one line per standing alert, hidden while none stands.

It shows the monitor's standing alerts rather than the last event, so an alert raised while
another area was open is still shown when this one opens, and the line clears once the reading
recovers (the screen reads it again after each sample the resource stream carries).
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import Static

from lexitui.events import ResourceAlert
from lexitui.ui.runtime.format import shown


def alert_text(alert: ResourceAlert) -> str:
    message = shown(alert.message, 300)
    return message[:1].upper() + message[1:]


class ResourceAlertLine(Static):
    DEFAULT_CSS = """
    ResourceAlertLine {
        height: auto;
        max-height: 4;
        padding: 0 1;
        color: $warning;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.display = False
        self._shown: tuple[ResourceAlert, ...] = ()

    def show(self, alerts: Sequence[ResourceAlert]) -> None:
        standing = tuple(alerts)
        if standing == self._shown:
            return  # one sample a second: repaint only when the alerts change
        self._shown = standing
        self.update("\n".join(alert_text(a) for a in standing))
        self.display = bool(standing)

"""The storage gauge: how full the disk under the model store is, what lexitui's files take,
and a low-space warning. Drawn from a ``StorageInfo``; until one arrives it says so.

Each line is cut to the widget's width rather than wrapped, and the bar takes whatever room
the figures leave (within limits), so the gauge keeps its two lines at 80 columns.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from lexitui.domain.storage import StorageInfo
from lexitui.domain.text import safe_text
from lexitui.domain.units import format_bytes
from lexitui.storage.paths import contract_home
from lexitui.ui.widgets.usage_bar import usage_bar

BAR_MIN, BAR_MAX = 8, 40


class StorageGauge(Widget):
    DEFAULT_CSS = """
    StorageGauge {
        height: 2;
        padding: 0 1;
    }
    """

    info: reactive[StorageInfo | None] = reactive(None)

    def render(self) -> Text:
        info = self.info
        if info is None:
            return Text("Reading the model store…", style="dim")
        width = self.content_size.width or 80
        return disk_line(info, width) + Text("\n") + store_line(info, width)


def disk_line(info: StorageInfo, width: int) -> Text:
    total, free = info.total_disk_bytes, info.free_disk_bytes
    figures = Text(f" {format_bytes(free)} free of {format_bytes(total)}")
    if info.is_low_on_space:
        figures.append("  LOW SPACE", style="bold red")
        keep = f" (keep {format_bytes(info.recommended_free_bytes)} free)"
        if len("Disk ") + BAR_MIN + len(figures) + len(keep) <= width:
            figures.append(keep)
    bar_width = max(BAR_MIN, min(BAR_MAX, width - len("Disk ") - len(figures)))
    line = Text("Disk ", style="bold")
    line.append_text(usage_bar((total - free) / total if total else None, bar_width))
    line.append_text(figures)
    if info.store_is_shared and info.store_mount:
        line.append(f"  models on {safe_text(info.store_mount, 40)}", style="bold")
    line.truncate(width, overflow="ellipsis")
    return line


def store_line(info: StorageInfo, width: int) -> Text:
    line = Text(safe_text(contract_home(info.storage_path), 60), style="dim")
    line.append(f" · models {format_bytes(info.used_by_models_bytes)}")
    line.append(f" · downloads {format_bytes(info.used_by_downloads_bytes)}")
    line.append(f" · temp {format_bytes(info.used_by_temp_bytes)}")
    if info.shared_model_count:
        line.append(
            f" · shared {info.shared_model_count} ({format_bytes(info.shared_library_bytes)})"
        )
    line.truncate(width, overflow="ellipsis")
    return line

"""The Fleet table's cells: text from another machine can neither style nor move the terminal,
a down host shows its reason, and each host's load over the last minute keeps its newest
samples on the right, one per probe seen."""

from __future__ import annotations

from rich.text import Text

from lexitui.fleet.host_state import HostGpu, HostState
from lexitui.ui.fleet.details import host_details
from lexitui.ui.fleet.rows import SPARK_WIDTH, LoadHistory, table_rows

HOSTILE = "[red]evil\x1b[2J[/red]"


def plain(cell: str | Text) -> str:
    return Text.from_markup(cell).plain if isinstance(cell, str) else cell.plain


def test_text_from_a_host_is_shown_as_it_is_never_as_markup_or_control() -> None:
    state = HostState(
        "h1", "lexitui", "http://10.0.0.5:8788", True, checked_at=1.0,
        loaded=(HOSTILE,), models=(HOSTILE,), gpus=(HostGpu(HOSTILE),),
    )  # fmt: skip
    rows = table_rows([state], LoadHistory())
    host, gpu = ([plain(cell) for cell in cells] for _key, _host, cells in rows)
    assert host[-1].startswith("[red]evil") and gpu[0].startswith(" └ [red]evil")
    assert all("\x1b" not in cell for cell in (*host, *gpu))
    details = Text.from_markup(host_details(state)).plain
    assert "[red]evil" in details and "\x1b" not in details


def test_a_down_host_shows_its_reason_and_no_gpu_rows() -> None:
    state = HostState("h2", "lexitui", "http://10.0.0.6:8788", False, "no answer within 2 s")
    rows = table_rows([state], LoadHistory())
    assert len(rows) == 1
    cells = [plain(cell) for cell in rows[0][2]]
    assert cells[1] == "down" and cells[-1] == "no answer within 2 s"


def test_load_history_counts_each_probe_once_newest_on_the_right() -> None:
    history = LoadHistory()
    up = HostState("h", "lexitui", "u", True, checked_at=1.0, running=3, waiting=1)
    history.observe(up)
    history.observe(up)  # the same probe seen on two ticks
    assert history.samples("h") == [4]
    for at in range(2, 80):
        history.observe(HostState("h", "lexitui", "u", True, checked_at=float(at), running=at))
    assert len(history.samples("h")) == 60 and history.samples("h")[-1] == 79
    line = history.line("h")
    assert len(line.plain) == SPARK_WIDTH and line.plain[-1] == "█"
    assert LoadHistory().line("nobody").plain == "·" * SPARK_WIDTH  # no sample: no bar

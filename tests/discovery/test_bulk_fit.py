"""The bulk analysis itself: a bounded number at once, the order kept, a failure a row."""

from __future__ import annotations

import asyncio

from lexitui.discovery.bulk_fit import FitRow, analyse_all, is_repo_id, read_target_list


async def test_at_most_the_bound_run_at_once_and_the_order_is_kept() -> None:
    running = 0
    most = 0
    release = asyncio.Event()

    async def analyse(target: str) -> FitRow:
        nonlocal running, most
        running += 1
        most = max(most, running)
        if running == 3:
            release.set()  # the bound is reached: let everyone finish
        await release.wait()
        running -= 1
        return FitRow(target, verdict="optimal")

    targets = [f"owner/model-{i}" for i in range(10)]
    rows = await asyncio.wait_for(analyse_all(targets, analyse, concurrency=3), 10)
    assert most == 3
    assert [r.model for r in rows] == targets


async def test_a_failure_is_a_row_with_its_reason_and_the_others_go_on() -> None:
    async def analyse(target: str) -> FitRow:
        if target == "bad/one":
            raise ConnectionError("the network\nwent away")
        return FitRow(target, verdict="optimal")

    rows = await analyse_all(["good/one", "bad/one", "good/two"], analyse)
    assert [r.analysed for r in rows] == [True, False, True]
    assert rows[1].verdict == "error" and rows[1].reason == "the network went away"


def test_a_list_skips_blank_lines_and_comments() -> None:
    text = "# header\n\n a/b  # note\nc/d\n   # x/y\npath/to/file.gguf\n"
    assert read_target_list(text.splitlines()) == ["a/b", "c/d", "path/to/file.gguf"]


def test_only_owner_slash_name_is_a_repo() -> None:
    assert is_repo_id("bartowski/Llama-3.2-3B-Instruct-GGUF")
    assert not is_repo_id("owner/name/file.gguf")
    assert not is_repo_id("model.gguf")
    assert not is_repo_id("smollm2-135m-instruct-q4_1")

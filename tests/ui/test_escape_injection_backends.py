"""Backends: what a server says about itself (Ollama's version) is shown as text in the table,
the detail line and ``lexitui backends``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from textual.widgets import DataTable, Static

from lexitui.commands.backends import main
from lexitui.ui.app import LexituiApp
from lexitui.ui.backends.screen import BackendsScreen
from tests.fakes.ollama_server import FakeOllama
from tests.ui.hostile_text import assert_shown_as_text, assert_terminal_safe, hostile
from tests.waiting import until


@pytest_asyncio.fixture
async def hostile_ollama(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeOllama]:
    fake = FakeOllama(None)
    fake.version = hostile("VERSION")
    await fake.start()
    monkeypatch.setenv("OLLAMA_HOST", fake.base_url)
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.mark.usefixtures("hostile_ollama")
async def test_what_a_backend_says_is_shown_as_text() -> None:
    app = LexituiApp()
    async with app.run_test(size=(220, 40)) as pilot:
        await app.services_ready.wait()
        await pilot.press("3")
        screen = app.screen
        assert isinstance(screen, BackendsScreen)
        table = screen.query_one(DataTable)
        await until(lambda: "ollama" in {str(k.value) for k in table.rows})
        table.move_cursor(row=table.get_row_index("ollama"))
        detail = screen.query_one("#backends-detail", Static)
        await until(lambda: "VERSION" in str(detail.render()))
        await pilot.pause()
        assert_shown_as_text(app, "VERSION")
        assert_terminal_safe(app)


def test_the_backends_command_prints_a_hostile_version_as_text(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeOllama(None)
    fake.version = hostile("VERSION")
    monkeypatch.setenv("OLLAMA_HOST", asyncio.run(fake.start()))
    try:
        assert main(["backends"]) == 0
    finally:
        asyncio.run(fake.stop())
    out = capsys.readouterr().out
    assert "version [b]VERSION[/b][$accent]\\x1b]0;PWNED\\x07" in out
    assert not any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0 for c in out)

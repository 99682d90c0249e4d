"""The Runtime chat goes through the router: with the local engine killed, a cloud provider (a
local server speaking OpenAI's API) answers and the chat says who, why and at what cost; the
Routing screen and ``lexitui usage`` count the request as the chat's (``tui``). With the local
model up, the chat's own settings still reach the engine, and Esc still stops it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.routing import RoutedRequestRecord
from lexitui.storage.starter import STARTER_ID
from lexitui.ui.app import LexituiApp
from lexitui.ui.routing.screen import RoutingScreen
from lexitui.ui.runtime.params import ParamsPanel
from lexitui.ui.runtime.screen import RuntimeScreen
from lexitui.ui.runtime.turns import ChatTurn
from tests.fakes.cloud_openai import FakeOpenAI
from tests.ui.test_routing_screen import rows
from tests.ui.test_runtime_screen import open_runtime, text
from tests.waiting import until, until_answered

pytestmark = pytest.mark.engine

SMALL = ModelLoadOptions(context_length=2048, threads=1, embedding=True)


def usage_report() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lexitui", "usage", "--period", "1d", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )


async def load_starter(app: LexituiApp, screen: RuntimeScreen) -> None:
    screen.load_model(STARTER_ID, SMALL)
    await until(lambda: app.services.runtime.active_model is not None, 60)


async def ask(screen: RuntimeScreen, pilot: Pilot[None], message: str) -> None:
    chat_input = screen.query_one("#chat-input", Input)
    chat_input.focus()
    chat_input.value = message
    await pilot.press("enter")


async def test_with_the_engine_killed_the_chat_answers_from_the_cloud_and_says_why(
    openai_cloud: FakeOpenAI,
) -> None:
    app = LexituiApp()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_runtime(app, pilot)
        # The routing service is up (the dashboard built it): it hears of the engine dying.
        await until(lambda: app.services.built("routing"), 30)
        await load_starter(app, screen)
        active = app.services.runtime.active_model
        assert active is not None and active.pid is not None
        os.kill(active.pid, signal.SIGKILL)
        await until(lambda: not screen.table.models, 30)
        placeholder = screen.query_one("#chat-input", Input).placeholder
        assert placeholder.startswith("No model loaded: Enter asks the router")

        await ask(screen, pilot, "Say hello.")
        await until(lambda: "finish:" in text(screen, "#chat-stats"), 60)
        answer = screen.chat.history[-1]
        assert answer.content and len(openai_cloud.requests) == 1, "the cloud answered"
        label = screen.chat.chat_log.turns[-1]
        assert isinstance(label, ChatTurn) and label.speaker == "openai · gpt-4o-mini"
        note = str(screen.query_one(".route-note", Static).render())
        assert note.startswith("Answered by openai (gpt-4o-mini): Used cloud (openai) due to:")
        assert "local model unavailable" in note and "SIGKILL" in note
        assert "cost $0.0" in note

        # Asked again: the new answer has its own note, the old one went with its answer.
        await pilot.press("ctrl+r")
        await until(lambda: len(openai_cloud.requests) == 2 and not screen.chat.generating, 60)
        assert len(screen.query(".route-note")) == 1 and len(screen.chat.history) == 2

        await app.services.routing.recorder.flush()
        await pilot.press("escape", "8")
        await until(lambda: isinstance(app.screen, RoutingScreen))
        routing = app.screen
        assert isinstance(routing, RoutingScreen)
        await until(lambda: len(rows(routing, "#routing-log")) == 2, 30)
        logged = rows(routing, "#routing-log")[0]
        assert " tui " in f" {logged} " and "openai" in logged and "gpt-4o-mini" in logged

        usage = await asyncio.to_thread(usage_report)
        assert usage.returncode == 0, usage.stderr
        report = json.loads(usage.stdout)
        assert report["analytics"]["requests_by_source"] == {"tui": 2}
        assert report["stats"]["cloud_requests"] == 2
        await pilot.press("escape", "q")


async def test_a_local_chat_through_the_router_keeps_its_settings_gauge_and_stop() -> None:
    app = LexituiApp()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_runtime(app, pilot)
        await load_starter(app, screen)
        finished: list[RoutedRequestRecord] = []
        routing = app.services.routing
        subscription = routing.records.subscribe(finished.append)
        gauge_before = text(screen, "#runtime-context")

        # A grammar only the engine knows: the answer can only be "yes".
        params = screen.query_one(ParamsPanel)
        params.set_mode("grammar", 'root ::= "yes"')
        params.set_value("temperature", "0")
        await ask(screen, pilot, "Is the sky blue?")
        await until(lambda: "finish:" in text(screen, "#chat-stats"), 60)
        assert screen.chat.history[-1].content == "yes"
        await until(lambda: text(screen, "#runtime-context") != gauge_before, 10)
        assert [(r.provider_id, r.model_id, r.source) for r in finished] == [
            ("local", STARTER_ID, "tui")
        ]
        assert not screen.query(".route-note"), "a local answer needs no note"

        # Esc closes the router's stream, and with it the engine's: its slot is free again.
        params.set_mode("text")
        params.set_value("max_tokens", "1500")
        await ask(screen, pilot, "Count from 1 to 500, one number per line.")
        await until(lambda: "tok/s" in text(screen, "#chat-stats"), 60)
        await pilot.press("escape")
        await until(lambda: not screen.chat.generating, 10)
        assert "Stopped" in text(screen, "#chat-stats")
        await until(lambda: len(finished) == 2, 10)
        assert not finished[-1].success and "cancelled" in (finished[-1].error or "")
        client = app.services.runtime.engine().client
        assert client is not None

        async def slot_free() -> bool:
            return not (await client.get("/slots")).json()[0]["is_processing"]

        await until_answered(slot_free, 30)
        log = app.services.runtime.log_path(STARTER_ID)
        await until_answered(lambda: asyncio.to_thread(lambda: "cancel task" in log.read_text()))
        subscription.dispose()
        await pilot.press("q")

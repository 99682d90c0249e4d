"""``lexitui serve`` end to end in-process: parse, start, answer, stop on SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal

import openai
import pytest

from lexitui.commands.serve import add_parser, cmd_serve
from lexitui.gateway import GatewayConfigError
from lexitui.services import Services
from tests.gateway.conftest import FakeRouter

pytestmark = pytest.mark.timeout(20)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["serve", *argv])


async def test_serve_refuses_a_public_address_without_a_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LEXITUI_GATEWAY_KEY", raising=False)
    with pytest.raises(GatewayConfigError, match="LEXITUI_GATEWAY_KEY"):
        await cmd_serve(parse("--host", "0.0.0.0", "--port", "0"))


async def test_serve_prints_its_url_answers_and_stops_on_sigterm(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LEXITUI_GATEWAY_KEY", "k-123")
    # The router the lead wires into Services; a fake one keeps this test about the command.
    monkeypatch.setattr(Services, "routing", FakeRouter(), raising=False)
    task = asyncio.create_task(cmd_serve(parse("--port", "0")))
    out = ""
    while "lexitui gateway on " not in out:
        assert not task.done(), task
        await asyncio.sleep(0.02)
        out += capsys.readouterr().out
    url = out.split("lexitui gateway on ", 1)[1].split()[0]
    assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
    client = openai.AsyncOpenAI(base_url=url, api_key="k-123", max_retries=0, timeout=10)
    models = await client.models.list()
    assert [m.id for m in models.data] == ["fake-model", "cloud-model"]
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(task, 10) == 0

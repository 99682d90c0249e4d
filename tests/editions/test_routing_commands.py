"""The routing and analytics rows from outside, as users meet them on a managed machine:
``lexitui route``, ``usage``, ``savings`` and ``recommend`` as subprocesses, and ``lexitui
serve`` answering over HTTP (403 in OpenAI's shape; Core has no gateway to start)."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from lexitui.editions.tiers import Tier
from tests.editions.conftest import ManagedMachine
from tests.editions.routing_cloud import cloud as cloud
from tests.fakes.cloud_openai import FakeOpenAI

pytestmark = pytest.mark.timeout(300)
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}


def refused(done: subprocess.CompletedProcess[str], starting: str) -> None:
    assert done.returncode == 1, done.stdout
    assert done.stderr.startswith(f"lexitui: {starting}"), done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_route_asks_by_hand_below_teams(managed: ManagedMachine, cloud: FakeOpenAI) -> None:
    by_hand = ("route", "hi", "--strategy", "prefer_cloud", "--max-tokens", "4")
    refused(managed.run(*by_hand), "basic routing needs WriterPro or above")
    managed.license(Tier.WRITERPRO)
    asked = managed.run(*by_hand)
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.strip() and "[openai gpt-4o-mini]" in asked.stderr
    refused(managed.run("route", "hi", "--max-tokens", "4"), "automatic fallback needs Teams")
    strategy = ("route", "hi", "--strategy", "cost_optimized", "--dry-run")
    refused(managed.run(*strategy), "full routing options needs Teams or above")
    managed.license(Tier.TEAMS)
    allowed = managed.run(*strategy, "--json")
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["decision"]["used_strategy"] == "cost_optimized"
    fell_back = managed.run("route", "hi", "--max-tokens", "4")
    assert fell_back.returncode == 0 and "due to: local model unavailable" in fell_back.stderr


def test_usage_savings_and_recommend_by_tier(managed: ManagedMachine, cloud: FakeOpenAI) -> None:
    managed.license(Tier.WRITERPRO)
    refused(managed.run("usage"), "basic analytics needs Teams or above")
    managed.license(Tier.TEAMS)
    assert managed.run("route", "hi", "--max-tokens", "4").returncode == 0
    totals = managed.run("usage", "--json")
    assert totals.returncode == 0, totals.stderr
    (today,) = json.loads(totals.stdout)["by_day"]
    assert (today["model_id"], today["requests"]) == ("gpt-4o-mini", 1)
    assert "stats" not in json.loads(totals.stdout)
    text = managed.run("usage").stdout
    assert "1 requests" in text and "gpt-4o-mini" in text and "cloud cost" not in text
    refused(managed.run("usage", "--requests", "5"), "detailed analytics needs Enterprise")
    for command in (("savings",), ("recommend", "hi")):
        refused(managed.run(*command), "cost optimisation needs Enterprise or above")
    managed.license(Tier.ENTERPRISE)
    detailed = json.loads(managed.run("usage", "--requests", "5", "--json").stdout)
    assert detailed["stats"]["cloud_requests"] == 1
    assert detailed["analytics"]["requests_by_provider"] == {"openai": 1}
    (request,) = detailed["requests"]
    assert (request["provider_id"], request["source"]) == ("openai", "cli")
    listed = managed.run("usage", "--requests", "5").stdout
    assert "cloud cost" in listed and " cli      openai " in listed
    assert managed.run("savings").returncode == 0
    assert managed.run("recommend", "hi").returncode == 0


@contextmanager
def serving(managed: ManagedMachine) -> Iterator[str]:
    """``lexitui serve`` on the managed machine: its base URL (without ``/v1``)."""
    proc = subprocess.Popen(
        managed.command("serve", "--port", "0", "--ollama-port", "off"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("lexitui gateway on "), proc.stderr.read() if proc.stderr else line
        yield line.split()[-1].removesuffix("/v1")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise


def test_the_gateway_refuses_core_at_start_and_answers_writerpro(
    managed: ManagedMachine, cloud: FakeOpenAI
) -> None:
    # Core has no local gateway at all: one line at start, before any model or port.
    start = ("serve", "--port", "0", "--ollama-port", "off")
    refused(managed.run(*start), "the local gateway needs WriterPro or above")
    managed.license(Tier.WRITERPRO)
    with serving(managed) as url:
        answer = httpx.post(f"{url}/v1/chat/completions", json=CHAT, timeout=60)
        assert answer.status_code == 200, answer.text
        assert answer.json()["choices"][0]["message"]["content"]
        strategy = {"x-lexitui-strategy": "round_robin"}
        beyond = httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers=strategy, timeout=60)
        assert beyond.status_code == 403
        assert beyond.json()["error"]["message"].startswith("full routing options needs Teams")

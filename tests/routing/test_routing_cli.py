"""``lexitui route``, ``providers`` and ``savings`` as a user runs them: subprocesses with their
own LEXITUI_HOME, a local server speaking OpenAI's API as the cloud."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from genai_prices import Usage, calc_price

from lexitui.config import Paths
from lexitui.storage.starter import STARTER_ID
from tests.fakes.cloud_common import TEST_KEY
from tests.fakes.cloud_openai import FakeOpenAI
from tests.home_config import write_test_config


def lexitui(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lexitui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
async def cloud(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeOpenAI]:
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    async with FakeOpenAI() as fake:
        paths.config_file.parent.mkdir(parents=True, exist_ok=True)
        write_test_config(
            paths.config_file,
            f"""
[routing]
daily_budget_usd = 0.000001

[runtime]
load_on_demand = false  # nothing loaded means the local model is unavailable

[providers.openai]
kind = "openai"
base_url = "{fake.base_url}"
model = "gpt-4o-mini"

[costs]
compare_to = "openai:gpt-4o-mini"
""",
        )
        yield fake


def price(prompt: int, completion: int) -> Decimal:
    usage = Usage(input_tokens=prompt, output_tokens=completion)
    return calc_price(usage, model_ref="gpt-4o-mini", provider_id="openai").total_price


async def test_dry_run_decides_without_sending(cloud: FakeOpenAI) -> None:
    result = lexitui("route", "hello", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)["decision"]
    assert decision["provider_id"] == "openai" and decision["model_id"] == "gpt-4o-mini"
    assert (
        decision["reason"]
        == "Used cloud (openai) due to: local model unavailable: no model is loaded"
    )
    assert decision["estimated_cost"] is not None and cloud.requests == []


def test_dry_run_with_nothing_loaded_picks_the_starter_that_loads_on_first_use() -> None:
    for command in (["route", "hello", "--dry-run", "--json"], ["recommend", "hello", "--json"]):
        result = lexitui(*command)
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        decision = out.get("decision") or out["recommendation"]
        assert decision["provider_id"] == "local" and decision["model_id"] == STARTER_ID
    [local] = json.loads(lexitui("providers", "--json").stdout)["providers"][:1]
    assert local["available"] and local["reason"] == f"{STARTER_ID} loads on first use"


async def test_route_sends_to_the_cloud_records_the_cost_then_the_budget_stops_it(
    cloud: FakeOpenAI,
) -> None:
    result = lexitui("route", "hello there", "--json", "--max-tokens", "5")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    record = out["record"]
    assert out["text"] and record["provider_id"] == "openai" and record["source"] == "cli"
    assert Decimal(record["cost_usd"]) == price(
        record["prompt_tokens"], record["completion_tokens"]
    )
    assert record["prompt_text"] is None  # prompts are not stored unless enabled
    again = lexitui("route", "hello again")
    assert again.returncode == 1
    assert "daily cloud budget" in again.stderr and len(cloud.requests) == 1


@pytest.mark.engine
async def test_a_local_answer_shows_up_as_savings(cloud: FakeOpenAI) -> None:
    result = lexitui("route", "Say hi", "--load", STARTER_ID, "--max-tokens", "6", "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)["record"]
    assert record["provider_id"] == "local" and cloud.requests == []
    report = json.loads(lexitui("savings", "--period", "1d", "--json").stdout)
    avoided = price(record["prompt_tokens"], record["completion_tokens"])
    assert Decimal(report["estimated_cloud_cost_avoided"]) == avoided > 0
    assert (
        report["local_requests"] == 1 and report["compared_to_cloud_model"] == "openai:gpt-4o-mini"
    )
    electricity = Decimal(report["estimated_local_electricity_cost"])
    assert Decimal(report["net_savings"]) == avoided - electricity
    text = lexitui("savings", "--period", "1d").stdout
    assert "cloud cost avoided" in text and STARTER_ID in text


async def test_providers_say_where_keys_come_from_and_never_show_them(
    cloud: FakeOpenAI, paths: Paths
) -> None:
    listed = lexitui("providers", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["id"]: r for r in json.loads(listed.stdout)["providers"]}
    assert rows["openai"]["key_source"] == "env OPENAI_API_KEY" and rows["openai"]["available"]
    assert rows["local"]["available"] is False
    assert TEST_KEY not in listed.stdout
    stored = lexitui("providers", "--set-key", "openai", stdin="sk-stored-key-123\n")
    assert stored.returncode == 0, stored.stderr
    keys = paths.config_dir / "keys.toml"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    without_env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "lexitui", "providers"],
        capture_output=True,
        text=True,
        env=without_env,
        timeout=60,
    )
    assert "stored" in result.stdout and "sk-stored-key-123" not in result.stdout
    unknown = lexitui("providers", "--set-key", "nope", stdin="x\n")
    assert unknown.returncode == 1 and "no provider 'nope'" in unknown.stderr


def test_a_bad_period_is_one_clear_line() -> None:
    result = lexitui("savings", "--period", "soon")
    assert result.returncode == 1
    assert (
        result.stderr.strip() == "lexitui: period 'soon': use a number and h, d, w or m (e.g. 7d)"
    )


def test_savings_without_a_reference_model_says_unknown(lexitui_home: Path) -> None:
    result = lexitui("savings", "--json")
    report = json.loads(result.stdout)
    assert (
        report["estimated_cloud_cost_avoided"] is None and report["compared_to_cloud_model"] is None
    )

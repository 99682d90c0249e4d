"""``lexitui serve`` as a user runs it, with the real ``openai`` SDK as the client and the real
embedded engine behind the router: answers from the starter model (sync, async, streaming with
usage, embeddings); then the engine is killed and the next request falls back to the configured
cloud endpoint with the reason recorded; ``lexitui savings --json`` reports the avoided cost."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from decimal import Decimal

import openai
import pytest

from lexitui.config import Paths
from lexitui.storage.starter import STARTER_ID
from lexitui.store import Store
from lexitui.store.routed_requests import RoutedRequestRows
from tests.fakes.cloud_common import TEST_KEY
from tests.fakes.cloud_openai import FakeOpenAI
from tests.gateway.serve_process import engines_running, running_serve
from tests.home_config import write_test_config

pytestmark = pytest.mark.engine


@pytest.fixture
async def cloud(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeOpenAI]:
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    async with FakeOpenAI() as fake:
        paths.config_file.parent.mkdir(parents=True, exist_ok=True)
        write_test_config(
            paths.config_file,
            f"""
[runtime]
first_token_timeout_s = 30

[providers.openai]
kind = "openai"
base_url = "{fake.base_url}"
model = "gpt-4o-mini"

[costs]
compare_to = "openai:gpt-4o-mini"
""",
        )
        yield fake


@pytest.fixture
def gateway(cloud: FakeOpenAI) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    with running_serve("--model", STARTER_ID) as (url, proc):
        yield url, proc


def engine_pids() -> list[int]:
    return [row["engine_pid"] for row in engines_running() if row["model_id"] == STARTER_ID]


async def test_serve_answers_the_sdk_then_falls_back_when_the_engine_stops(
    gateway: tuple[str, subprocess.Popen[str]], cloud: FakeOpenAI, paths: Paths
) -> None:
    base_url, proc = gateway
    client = openai.OpenAI(base_url=base_url, api_key="unused-on-loopback")
    ask = [{"role": "user", "content": "Say hello in three words."}]

    answer = await asyncio.to_thread(
        client.chat.completions.create, model="auto", messages=ask, max_tokens=8
    )
    assert answer.model == STARTER_ID and answer.choices[0].message.content
    assert answer.usage is not None and answer.usage.completion_tokens > 0

    async_client = openai.AsyncOpenAI(base_url=base_url, api_key="unused-on-loopback")
    stream = await async_client.chat.completions.create(
        model="auto",
        messages=ask,
        max_tokens=8,
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage = "", None
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if chunk.usage is not None:
            usage = chunk.usage
    assert text and usage is not None and usage.completion_tokens > 0

    completion = await async_client.completions.create(
        model="auto", prompt="One, two,", max_tokens=4
    )
    assert completion.choices[0].text
    vectors = await async_client.embeddings.create(model="auto", input=["a cat", "a dog"])
    assert len(vectors.data) == 2 and len(vectors.data[0].embedding) == 576
    await async_client.close()
    assert cloud.requests == []

    [pid] = engine_pids()
    os.kill(pid, signal.SIGKILL)
    fallback = await asyncio.to_thread(
        client.chat.completions.create, model="auto", messages=ask, max_tokens=8
    )
    assert fallback.model == "gpt-4o-mini" and "Cloud says" in (
        fallback.choices[0].message.content or ""
    )
    assert len(cloud.requests) == 1

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    savings = subprocess.run(
        [sys.executable, "-m", "lexitui", "savings", "--period", "1d", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    report = json.loads(savings.stdout)
    assert report["local_requests"] == 4  # chat, stream, completion and embeddings
    assert Decimal(report["estimated_cloud_cost_avoided"]) > 0
    assert Decimal(report["actual_cloud_cost"]) > 0

    store = Store(paths.database)
    await store.open()
    try:
        rows = RoutedRequestRows(store)
        latest = (await rows.recent(1))[0]
        stats = await rows.stats(timedelta(days=1))
        embedded = [r for r in await rows.recent(10) if r.task.value == "embedding"]
    finally:
        await store.close()
    assert latest.provider_id == "openai" and latest.was_fallback and latest.source == "gateway"
    assert "local" in latest.reason and latest.prompt_text is None
    assert (stats.local_requests, stats.cloud_requests) == (4, 1)
    assert stats.failed_requests == 0  # a streamed answer read to its end is a success
    assert embedded[0].provider_id == "local" and embedded[0].prompt_tokens > 0

"""``lexitui run`` sends through the router (source ``cli``): every answer is recorded, and once
the loaded model is gone a configured cloud provider (a local server speaking OpenAI's API)
answers, saying who, why and at what cost, while the chat is still saved."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from lexitui.storage.starter import STARTER_ID
from tests.fakes.cloud_openai import FakeOpenAI

pytestmark = pytest.mark.engine

QUICK = ["--ctx", "1024", "--max-tokens", "4", "--temperature", "0", "--seed", "1"]


def lexitui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lexitui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )


def usage() -> dict[str, dict[str, object]]:
    report = lexitui("usage", "--period", "1d", "--json")
    assert report.returncode == 0, report.stderr
    found: dict[str, dict[str, object]] = json.loads(report.stdout)
    return found


def test_a_one_shot_run_is_answered_locally_and_recorded_as_the_cli() -> None:
    result = lexitui("run", STARTER_ID, "Say hi", *QUICK, "--top-k", "1", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert (answer["provider"], answer["model"], answer["completion_tokens"]) == (
        "local",
        STARTER_ID,
        4,
    )
    assert answer["engine"] == "embedded llama.cpp" and answer["tokens_per_second"] > 0
    assert usage()["analytics"]["requests_by_source"] == {"cli": 1}
    text = lexitui("usage", "--period", "1d")
    assert "from cli: 1" in text.stdout


async def test_with_the_model_unloaded_the_cloud_answers_and_the_chat_is_saved(
    openai_cloud: FakeOpenAI,
) -> None:
    chat = subprocess.Popen(
        [sys.executable, "-m", "lexitui", "run", STARTER_ID, *QUICK],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert chat.stdout is not None and chat.stdin is not None
        assert chat.stdout.readline().startswith(f"Chatting with {STARTER_ID}")
        chat.stdin.write("Say hi\n")
        chat.stdin.flush()
        deadline = time.monotonic() + 60
        while not openai_cloud.requests and usage()["stats"]["local_requests"] == 0:
            assert time.monotonic() < deadline, "the first answer never came"
            time.sleep(0.2)
        assert "unloaded" in lexitui("unload", STARTER_ID).stdout
        deadline = time.monotonic() + 30
        while json.loads(lexitui("ps", "--json").stdout) != [] and time.monotonic() < deadline:
            time.sleep(0.1)
        _, err = chat.communicate("Say bye\n", timeout=60)
    finally:
        if chat.poll() is None:
            chat.kill()
    assert chat.returncode == 0, err
    assert len(openai_cloud.requests) == 1, "the second question went to the cloud"
    assert "[answered by openai gpt-4o-mini: Used cloud (openai) due to: local model" in err
    assert "stopped from outside" in err and "cost $" in err
    report = usage()
    assert report["analytics"]["requests_by_source"] == {"cli": 2}
    assert (report["stats"]["local_requests"], report["stats"]["cloud_requests"]) == (1, 1)
    (saved,) = json.loads(lexitui("chats", "--json").stdout)
    assert saved["message_count"] == 4

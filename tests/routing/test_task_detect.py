"""A chat request's task is read from what it asks, so ``[routing.tasks]`` and the task
overrides apply to "Summarise …" (British or American) and the other usual asks."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from lexitui.config import Paths
from lexitui.domain.language_model import LanguageModelRequest, Message, TaskType
from lexitui.routing.task_detect import detect_task, with_detected_task
from lexitui.services import Services
from tests.fakes.cloud_common import TEST_KEY
from tests.fakes.cloud_openai import FakeOpenAI
from tests.home_config import write_test_config


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("Summarise this article: the cat sat on the mat.", TaskType.SUMMARIZATION),
        ("Summarize the meeting notes below", TaskType.SUMMARIZATION),
        ("Can you summarise this for me?", TaskType.SUMMARIZATION),
        ("TL;DR of the thread below", TaskType.SUMMARIZATION),
        ("Sum up this discussion", TaskType.SUMMARIZATION),
        ("Give me the key points of this report", TaskType.SUMMARIZATION),
        ("Summarise this code: def f(): pass", TaskType.SUMMARIZATION),
        ("Translate this into French", TaskType.TRANSLATION),
        ("How do you say thank you in Japanese?", TaskType.TRANSLATION),
        ("Write a Python function that adds two numbers", TaskType.CODE_GENERATION),
        ("Implement a binary search in Rust", TaskType.CODE_GENERATION),
        ("write c++ code for a queue", TaskType.CODE_GENERATION),
        ("Write a poem about autumn", TaskType.CREATIVE_WRITING),
        ("Tell me a bedtime story", TaskType.CREATIVE_WRITING),
        ("Analyse the sales figures", TaskType.ANALYSIS),
        ("Analyze this dataset", TaskType.ANALYSIS),
        ("Compare Python and Go for a CLI", TaskType.ANALYSIS),
        ("Hello, how are you?", None),
        ("What is the capital of France?", None),
        ("Tell me about summer", None),
    ],
)
def test_the_task_is_read_from_the_ask(text: str, task: TaskType | None) -> None:
    assert detect_task(text) == task


def test_only_an_unsaid_task_is_read_and_only_from_the_last_user_message() -> None:
    said = LanguageModelRequest(
        messages=(Message("user", "Summarise this"),), task=TaskType.ANALYSIS
    )
    assert with_detected_task(said).task is TaskType.ANALYSIS
    turns = (
        Message("system", "You summarise documents."),
        Message("user", "Summarise this."),
        Message("assistant", "Done."),
        Message("user", "Thanks! How are you?"),
    )
    assert with_detected_task(LanguageModelRequest(messages=turns)).task is TaskType.CHAT
    prompt = LanguageModelRequest(prompt="Translate to German: good morning")
    assert with_detected_task(prompt).task is TaskType.TRANSLATION


@pytest.fixture
async def services(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Services]:
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    async with FakeOpenAI() as first, FakeOpenAI() as second:
        paths.config_file.parent.mkdir(parents=True, exist_ok=True)
        write_test_config(
            paths.config_file,
            f"""
[routing]
strategy = "prefer_cloud"
cloud_provider = "first"

[routing.chains]
summarization = ["second"]

[providers.first]
kind = "openai"
base_url = "{first.base_url}"
model = "gpt-4o-mini"

[providers.second]
kind = "openai"
base_url = "{second.base_url}"
model = "gpt-4o"
""",
        )
        built = Services.build(paths)
        await built.start()
        try:
            yield built
        finally:
            await built.stop()


@pytest.mark.parametrize("verb", ["Summarise", "Summarize"])
async def test_a_summary_request_is_routed_and_recorded_as_a_summary(
    services: Services, verb: str
) -> None:
    routing = services.routing
    ask = LanguageModelRequest(messages=(Message("user", f"{verb} this: a b c"),), max_tokens=8)
    routed = await routing.route(ask)
    assert routed.task is TaskType.SUMMARIZATION
    answer = await routing.complete(ask)
    assert answer.provider_id == "second"  # the summarization chain applied
    chat = LanguageModelRequest(messages=(Message("user", "hello there"),), max_tokens=8)
    assert (await routing.complete(chat)).provider_id == "first"
    await routing.recorder.flush()
    tasks = [r.task for r in await routing.recorder.rows.recent()]
    assert tasks == [TaskType.CHAT, TaskType.SUMMARIZATION]

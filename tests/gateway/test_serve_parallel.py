"""Four clients of one model at once through ``lexitui serve --parallel 4``: the engine's four
slots answer them together (continuous batching). Each answer is the one the same prompt gets
alone (greedy, seeded, a different prompt per client, so crossed or mixed streams would show),
and no client waits for another to finish: every first token arrives before any last one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import openai
import pytest

from lexitui.storage.starter import STARTER_ID
from tests.gateway.serve_process import running_serve

pytestmark = pytest.mark.engine
PROMPTS = (
    "Count from one to twenty in words.",
    "Name ten fruits, one per line.",
    "Write a short poem about the sea.",
    "Explain what a compiler does.",
)
MAX_TOKENS = 48


@pytest.fixture
def base_url() -> Iterator[str]:
    with running_serve("--model", STARTER_ID, "--parallel", "4", "--ctx", "2048") as (url, _):
        yield url


async def ask(client: openai.AsyncOpenAI, prompt: str) -> tuple[str, str | None, float, float]:
    """The streamed answer, its finish reason, and when its first and last text arrived."""
    stream = await client.chat.completions.create(
        model=STARTER_ID,
        messages=[{"role": "user", "content": prompt}],
        max_tokens=MAX_TOKENS,
        temperature=0,
        seed=7,
        stream=True,
    )
    pieces: list[str] = []
    finish: str | None = None
    first = last = 0.0
    async for chunk in stream:
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        if choice.delta.content:
            last = time.monotonic()
            first = first or last
            pieces.append(choice.delta.content)
        finish = choice.finish_reason or finish
    return "".join(pieces), finish, first, last


async def test_four_streams_share_four_slots_without_mixing_or_waiting(base_url: str) -> None:
    client = openai.AsyncOpenAI(base_url=base_url, api_key="unused-on-loopback", max_retries=0)
    alone = [await ask(client, prompt) for prompt in PROMPTS]
    assert all(text and finish in ("stop", "length") for text, finish, _f, _l in alone)
    assert len({text for text, *_ in alone}) == len(PROMPTS)  # a crossed stream would show

    together = await asyncio.gather(*(ask(client, prompt) for prompt in PROMPTS))
    for (text, finish, _f, _l), (single, single_finish, _sf, _sl) in zip(
        together, alone, strict=True
    ):
        assert (text, finish) == (single, single_finish)  # complete and uncorrupted
    firsts = [first for _t, _f, first, _l in together]
    lasts = [last for _t, _f, _first, last in together]
    assert max(firsts) < min(lasts), "a client waited for another to finish"
    await client.close()

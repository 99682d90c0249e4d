"""A routed answer from the local model gives the engine's slot back as it ends: the next
request (a benchmark, another chat) never waits on an answer already given."""

from __future__ import annotations

import pytest

from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.language_model import LanguageModelRequest, Message
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID

pytestmark = pytest.mark.engine


async def test_the_slot_is_free_when_the_routed_answer_ends(services: Services) -> None:
    await services.runtime.load(STARTER_ID, ModelLoadOptions(context_length=1024, threads=1))
    ask = LanguageModelRequest(messages=(Message("user", "Say hi"),), max_tokens=4)
    for source in ("tui", "cli"):
        texts = [chunk.text async for chunk in services.routing.stream(ask, source=source)]
        assert "".join(texts)
        assert services.runtime.active_requests == 0, "the engine's slot is still held"

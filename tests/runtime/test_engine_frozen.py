"""A frozen engine (SIGSTOP: the kernel still accepts connections, nothing answers, not even
a status line) fails a request after ``[runtime] first_token_timeout_s``, not never."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.domain.inference import LocalGenerationRequest
from lexitui.runtime.errors import GenerationError
from lexitui.runtime.settings import RuntimeSettings
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID

pytestmark = [pytest.mark.engine, pytest.mark.timeout(120)]
SMALL = ModelLoadOptions(context_length=1024, threads=1, embedding=True)


async def test_a_frozen_engine_fails_after_the_first_token_timeout(services: Services) -> None:
    loaded = await services.runtime.load(STARTER_ID, SMALL)
    assert loaded.pid is not None
    ask = LocalGenerationRequest(
        messages=(LocalChatMessage(ChatRole.USER, "Say hi"),), max_tokens=4
    )
    assert (await services.runtime.generate(ask)).text  # it answers while it runs
    services.runtime.settings = RuntimeSettings(first_token_timeout_s=3, retries=0)
    os.kill(loaded.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(GenerationError, match="no answer within 3 s"):
            await asyncio.wait_for(services.runtime.generate(ask), 60)
        # The 3 s deadline with a generous margin, far below the 60 s the test would wait.
        assert time.monotonic() - started < 30
    finally:
        os.kill(loaded.pid, signal.SIGCONT)
    # Thawed, it answers again (once it has dropped the request it was sent while frozen).
    services.runtime.settings = RuntimeSettings()
    assert (await services.runtime.generate(ask)).text

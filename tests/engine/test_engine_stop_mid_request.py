"""An embedded engine told to stop (SIGTERM, as ``lexitui unload`` sends) while it streams an
answer exits at once, not after llama.cpp's own shutdown has waited out the request."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from lexitui.engine.kinds import EMBEDDED_KIND
from lexitui.engine.options import EngineOptions
from lexitui.engine.process import EngineProcess

pytestmark = pytest.mark.engine


async def test_sigterm_during_a_stream_ends_the_engine_within_seconds(
    starter_path: Path, tmp_path: Path
) -> None:
    engine = EngineProcess(
        starter_path, tmp_path / "engine.log", EngineOptions(context_length=1024), EMBEDDED_KIND
    )
    await engine.start()
    try:
        body = {"prompt": "Tell a very long story.", "n_predict": 2000, "stream": True}
        async with (
            httpx.AsyncClient(base_url=engine.base_url, headers=engine.auth_headers) as client,
            client.stream("POST", "/completion", json=body, timeout=60) as answer,
        ):
            chunks = answer.aiter_lines()
            while not (await anext(chunks)).startswith("data:"):
                pass  # the first token is out: the request is in flight
            assert engine.pid is not None
            os.kill(engine.pid, signal.SIGTERM)
            started = time.monotonic()
            code = await asyncio.wait_for(engine.wait(), 60)
        took = time.monotonic() - started
        assert code == 0  # a clean, asked-for stop, as the supervisor reads it
        assert took < 5, f"the engine took {took:.1f} s to stop"
    finally:
        await engine.stop()

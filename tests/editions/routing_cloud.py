"""A cloud provider for the routing rows' tests, with no local model able to answer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from lexitui.config import Paths
from tests.fakes.cloud_common import TEST_KEY
from tests.fakes.cloud_openai import FakeOpenAI
from tests.home_config import write_test_config


@pytest.fixture
async def cloud(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeOpenAI]:
    """``openai`` (gpt-4o-mini) answered by a local server, and a local runtime with nothing
    loaded nor loaded on demand: the default strategy (prefer local) can only be answered by
    falling back to the cloud."""
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    async with FakeOpenAI() as fake:
        paths.config_file.parent.mkdir(parents=True, exist_ok=True)
        write_test_config(
            paths.config_file,
            f"""
[runtime]
load_on_demand = false

[providers.openai]
kind = "openai"
base_url = "{fake.base_url}"
model = "gpt-4o-mini"
""",
        )
        yield fake

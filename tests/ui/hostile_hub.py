"""The fake Hub with the hostile repos first, for the escape-injection tests of several areas."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.fakes.hub_records import HubRepo
from tests.fakes.hub_repos_hostile import hostile_card_repo, hostile_id_repo
from tests.fakes.hub_server import FakeHub, default_repos
from tests.ui.hostile_text import hostile, hostile_name


def hostile_repos() -> list[HubRepo]:
    return [hostile_id_repo(hostile), hostile_card_repo(hostile, hostile_name), *default_repos()]


@pytest_asyncio.fixture
async def hostile_hub(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeHub]:
    async with FakeHub(hostile_repos()) as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.base_url)
        yield fake

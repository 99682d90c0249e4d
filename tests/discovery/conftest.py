"""Fixtures for the discovery tests: the fake Hub behind ``HF_ENDPOINT``, a store, a clock.

Every test starts without the developer's Hugging Face settings: no ``HF_TOKEN``, not offline,
and ``huggingface_hub``'s saved-login path pointed at an empty folder, so a token from
``hf auth login`` on this machine can never reach a test (or a fake server).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from huggingface_hub import constants as hf_constants

from lexitui.discovery.cache import RegistryCache
from lexitui.discovery.huggingface import HuggingFaceRegistry, StaleNotice
from lexitui.store import Store
from tests.fakes.hub_server import FakeHub

HF_VARIABLES = (
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_ENDPOINT",
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
)


@pytest.fixture(autouse=True)
def clean_hf_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in HF_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tmp_path / "no-hf-login" / "token"))


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest_asyncio.fixture
async def hub(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeHub]:
    async with FakeHub() as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.base_url)
        yield fake


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = Store(tmp_path / "registry.db")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def stale_notices() -> list[StaleNotice]:
    return []


@pytest.fixture
def registry(
    hub: FakeHub, store: Store, clock: FakeClock, stale_notices: list[StaleNotice]
) -> HuggingFaceRegistry:
    return HuggingFaceRegistry(RegistryCache(store), clock=clock, on_stale=stale_notices.append)

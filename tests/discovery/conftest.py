"""Fixtures for the discovery tests: a store, a clock, a registry on the fake Hub (whose
fixture, with the clean Hugging Face environment, lives in the top-level conftest)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from lexitui.discovery.huggingface import HuggingFaceRegistry, StaleNotice
from lexitui.discovery.ollama_library import OllamaLibraryRegistry
from lexitui.store import Store
from lexitui.store.search_cache import RegistryCache
from tests.fakes.hub_server import FakeHub
from tests.fakes.ollama_registry import FakeRegistry, add_sample_models


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


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


# -- the Ollama library on its local registry --------------------------------------------------


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeRegistry]:
    async with FakeRegistry() as registry:
        add_sample_models(registry)
        yield registry


@pytest.fixture
def cache(store: Store) -> RegistryCache:
    return RegistryCache(store)


@pytest_asyncio.fixture
async def library(fake: FakeRegistry, cache: RegistryCache) -> AsyncIterator[OllamaLibraryRegistry]:
    registry = OllamaLibraryRegistry(cache, base_url=fake.url)
    yield registry
    await registry.aclose()

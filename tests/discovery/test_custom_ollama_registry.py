"""``[registries.NAME]`` of kind "ollama": an Ollama-style registry (the distribution API)
searched beside the Hub, on a local registry that speaks that API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from lexitui.config import Paths
from lexitui.domain.discovery import ModelSearchQuery
from lexitui.domain.enums import ModelRegistryType
from lexitui.services import Services
from tests.fakes.hub_server import FakeHub
from tests.fakes.ollama_registry import FakeRegistry, add_sample_models
from tests.home_config import closed_url, write_test_config


@pytest_asyncio.fixture
async def mirror() -> AsyncIterator[FakeRegistry]:
    async with FakeRegistry() as registry:
        add_sample_models(registry)
        yield registry


async def started(paths: Paths, url: str) -> Services:
    # The library's website off: its search then covers the names opened before (none here).
    library = "[ollama_library]\nurl = false\n"
    mirror = f'[registries.mirror]\nkind = "ollama"\nurl = "{url}"\n'
    write_test_config(paths.config_file, library + mirror)
    services = Services.build(paths)
    await services.start()
    return services


async def test_a_whole_name_is_found_on_the_registry_and_labelled(
    hub: FakeHub, mirror: FakeRegistry, paths: Paths
) -> None:
    services = await started(paths, mirror.url)
    try:
        discovery = services.discovery
        result = await discovery.search(ModelSearchQuery(query="llama3.2:3b"))
        (found,) = [m for m in result.models if m.registry_name == "mirror"]
        assert found.id == "llama3.2:3b" and result.unavailable == ()

        details = await discovery.details(found.id, found.registry, registry_name="mirror")
        urls = [v.download_url or "" for v in details.model.variants]
        assert urls and all(u.startswith(mirror.url) for u in urls)

        # Once opened, a part of the name finds it there, and only there: the Ollama library
        # keeps its own cache, so the mirror's manifests are never shown as the library's.
        again = await discovery.search(ModelSearchQuery(query="llama"))
        assert [m.id for m in again.models if m.registry_name == "mirror"] == ["llama3.2:3b"]
        library = await discovery.search(
            ModelSearchQuery(query="llama"), ModelRegistryType.OLLAMA_LIBRARY
        )
        assert library.models == ()
    finally:
        await services.stop()


async def test_a_registry_that_is_down_is_said_beside_the_hubs_results(
    hub: FakeHub, paths: Paths
) -> None:
    services = await started(paths, closed_url())
    try:
        result = await services.discovery.search(ModelSearchQuery(query="llama3.2:3b"))
        (gone,) = result.unavailable
        assert gone.registry == "mirror" and gone.reason
        # The Hub answered (with nothing for this name): no error hides that.
        assert all(m.registry_name == "Hugging Face" for m in result.models)
    finally:
        await services.stop()

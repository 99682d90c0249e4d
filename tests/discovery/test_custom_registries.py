"""``[registries.NAME]``: Hugging Face-compatible endpoints searched beside the Hub.

Two local Hubs on their own ports: the ``hub`` fixture (the Hub, through ``HF_ENDPOINT``) and a
second one configured as the registry ``corp``, whose tiny model is gated so only corp's own
token (from ``token_env``) fetches it. Each test drives the real services, the real
``huggingface_hub`` client and the real downloader.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio

from lexitui.config import Paths
from lexitui.domain.discovery import ModelSearchQuery
from lexitui.domain.enums import DownloadStatus
from lexitui.services import Services
from tests.fakes.hub_records import HubRepo
from tests.fakes.hub_repos_served import tiny_fixture_gguf
from tests.fakes.hub_server import GRANTED_TOKEN, OTHER_TOKEN, FakeHub
from tests.home_config import closed_url, write_test_config

TINY = "lexitui-fixtures/tiny-random-llama-GGUF"


Start = Callable[[], Awaitable[Services]]


def corp_repos() -> list[HubRepo]:
    # Gated on corp and granted to GRANTED_TOKEN's user: only corp's own token can fetch it.
    gated = dataclasses.replace(tiny_fixture_gguf(), gated="manual", granted_users={"granted-user"})
    return [gated]


@pytest_asyncio.fixture
async def corp() -> AsyncIterator[FakeHub]:
    async with FakeHub(repos=corp_repos()) as fake:
        yield fake


def configure(paths: Paths, **registries: str) -> None:
    tables = "".join(
        f'\n[registries.{name}]\nkind = "huggingface"\nurl = "{url}"\ntoken_env = "CORP_TOKEN"\n'
        for name, url in registries.items()
    )
    write_test_config(paths.config_file, tables)


@pytest_asyncio.fixture
async def start(paths: Paths) -> AsyncIterator[Start]:
    """Built by each test once it has written its config."""
    built: list[Services] = []

    async def build() -> Services:
        one = Services.build(paths)
        await one.start()
        built.append(one)
        return one

    yield build
    for one in built:
        await one.stop()


async def test_a_search_covers_the_hub_and_the_registry_each_labelled(
    hub: FakeHub, corp: FakeHub, paths: Paths, start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORP_TOKEN", GRANTED_TOKEN)
    configure(paths, corp=corp.base_url)
    running = await start()
    result = await running.discovery.search(ModelSearchQuery(query="tiny-random"))
    labels = sorted((m.registry_name, m.id) for m in result.models)
    # The same repo id on both, told apart by the registry each came from.
    assert labels == [("Hugging Face", TINY), ("corp", TINY)]
    assert result.unavailable == ()
    assert corp.hub_calls("/api/models"), "the configured registry was asked"


async def test_a_registry_that_is_down_is_named_with_why_and_the_rest_still_shows(
    hub: FakeHub, corp: FakeHub, paths: Paths, start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORP_TOKEN", GRANTED_TOKEN)
    configure(paths, corp=corp.base_url, down=closed_url())
    running = await start()
    result = await running.discovery.search(ModelSearchQuery(query="tiny-random"))
    assert {m.registry_name for m in result.models} == {"Hugging Face", "corp"}
    (gone,) = result.unavailable
    assert gone.registry == "down"
    assert "cannot be reached" in gone.reason and GRANTED_TOKEN not in gone.reason


async def test_the_hub_down_still_shows_the_registry(
    corp: FakeHub, paths: Paths, start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", closed_url())
    monkeypatch.setenv("CORP_TOKEN", GRANTED_TOKEN)
    configure(paths, corp=corp.base_url)
    running = await start()
    result = await running.discovery.search(ModelSearchQuery(query="tiny-random"))
    assert [(m.registry_name, m.id) for m in result.models] == [("corp", TINY)]
    assert [u.registry for u in result.unavailable] == ["Hugging Face"]


async def test_a_download_from_the_registry_uses_its_token_and_lands_verified(
    hub: FakeHub, corp: FakeHub, paths: Paths, start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each endpoint has its own token: the Hub's must never reach corp, nor corp's the Hub.
    monkeypatch.setenv("HF_TOKEN", OTHER_TOKEN)
    monkeypatch.setenv("CORP_TOKEN", GRANTED_TOKEN)
    configure(paths, corp=corp.base_url)
    running = await start()
    result = await running.discovery.search(ModelSearchQuery(query="tiny-random"))
    from_corp = next(m for m in result.models if m.registry_name == "corp")
    details = await running.discovery.details(from_corp.id, registry_name="corp")
    assert details.model.registry_name == "corp"
    q8 = next(f.variant for f in details.variants if f.variant.filename.endswith("Q8_0.gguf"))
    assert q8.download_url is not None and q8.download_url.startswith(corp.base_url)

    queued = await running.discovery.download(details.model, q8)
    finished = await running.download_manager.wait(queued.id)
    assert finished.status is DownloadStatus.COMPLETED, finished.error
    installed = await running.registry.list()
    assert any(m.path.endswith("Q8_0.gguf") for m in installed)

    corp_users = {c.user for c in corp.calls if c.has_auth}
    hub_users = {c.user for c in hub.calls if c.has_auth}
    assert corp_users == {"granted-user"}, corp_users
    assert "granted-user" not in hub_users


async def test_without_its_token_the_gated_file_is_refused_not_sent_the_hub_token(
    hub: FakeHub, corp: FakeHub, paths: Paths, start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", GRANTED_TOKEN)  # would open it, were it sent to corp
    monkeypatch.delenv("CORP_TOKEN", raising=False)
    configure(paths, corp=corp.base_url)
    running = await start()
    details = await running.discovery.details(TINY, registry_name="corp")
    q8 = next(f.variant for f in details.variants if f.variant.filename.endswith("Q8_0.gguf"))
    queued = await running.discovery.download(details.model, q8)
    finished = await running.download_manager.wait(queued.id)
    assert finished.status is DownloadStatus.FAILED
    assert not [c for c in corp.calls if c.has_auth]


async def test_a_refused_token_is_said_as_the_registrys_own(
    hub: FakeHub, corp: FakeHub, paths: Paths, start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    bogus = "hf_notAKnownToken000000000000000000"
    monkeypatch.setenv("CORP_TOKEN", bogus)
    configure(paths, corp=corp.base_url)
    running = await start()
    result = await running.discovery.search(ModelSearchQuery(query="tiny-random"))
    (gone,) = result.unavailable
    assert gone.registry == "corp"
    assert "refused the token in CORP_TOKEN" in gone.reason and "HF_TOKEN" not in gone.reason
    assert bogus not in gone.reason
    assert [m.registry_name for m in result.models] == ["Hugging Face"]

"""A request names its model the way its client does, and the router holds it to that: an
installed model by any of its spellings stays local, a cloud model goes to its provider, and a
name nobody has is refused (never answered by another model). Requests with images are refused
in words. Nothing here needs an engine: the decisions come before any load."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lexitui.config import Paths
from lexitui.domain.inference import InvalidRequest
from lexitui.domain.language_model import LanguageModelRequest, Message
from lexitui.routing.errors import UnknownModel
from lexitui.services import Services
from lexitui.storage.starter import STARTER_FILE, STARTER_ID
from tests.fakes.cloud_openai import FakeOpenAI


def ask(model: str | None, *, images: tuple[str, ...] = ()) -> LanguageModelRequest:
    return LanguageModelRequest(
        messages=(Message("user", "hello there", images=images),), model=model, max_tokens=4
    )


@pytest.fixture
async def services(openai_cloud: FakeOpenAI, paths: Paths) -> AsyncIterator[Services]:
    built = Services.build(paths)
    await built.start()
    try:
        yield built
    finally:
        await built.stop()


@pytest.mark.parametrize(
    "spelling",
    [STARTER_ID, STARTER_FILE, STARTER_FILE.removesuffix(".gguf"), f"{STARTER_ID}:latest"],
)
async def test_every_spelling_of_an_installed_model_routes_to_it_locally(
    services: Services, spelling: str
) -> None:
    routed = await services.routing.route(ask(spelling))
    assert (routed.provider.provider_id, routed.model_id) == ("local", STARTER_ID)


async def test_a_cloud_model_by_name_goes_to_its_provider(services: Services) -> None:
    routed = await services.routing.route(ask("gpt-4o-mini"))
    assert (routed.provider.provider_id, routed.model_id) == ("openai", "gpt-4o-mini")


async def test_a_model_nobody_has_is_refused_and_recorded_not_answered(
    services: Services,
) -> None:
    with pytest.raises(UnknownModel, match="'llama-9000' does not exist"):
        await services.routing.complete(ask("llama-9000"))
    with pytest.raises(UnknownModel):
        await services.routing.route(ask("llama-9000"))
    assert services.runtime.loaded_models() == []  # nothing was loaded to answer it
    await services.routing.recorder.flush()
    recent = await services.routing.recorder.rows.recent()
    assert any(r.error and "llama-9000" in r.error for r in recent)


async def test_a_model_installed_after_start_is_found_on_its_first_request(
    services: Services,
) -> None:
    await services.routing.models()  # the router's copy of the installed list is now fresh
    starter = await services.registry.get(STARTER_ID)
    await services.registry.add(
        "second-copy", "Second copy", Path(starter.path), source="test", registered_by_path=True
    )
    routed = await services.routing.route(ask("second-copy"))
    assert (routed.provider.provider_id, routed.model_id) == ("local", "second-copy")


async def test_the_model_list_has_every_installed_model_and_the_clouds(
    services: Services,
) -> None:
    listed = {m.id: m for m in await services.routing.models()}
    assert listed[STARTER_ID].is_local and not listed[STARTER_ID].is_loaded
    assert listed[STARTER_ID].size_bytes and listed[STARTER_ID].size_bytes > 1_000_000
    assert listed["gpt-4o-mini"].provider_id == "openai"
    assert (await services.routing.model(STARTER_FILE)).id == STARTER_ID
    with pytest.raises(UnknownModel):
        await services.routing.model("llama-9000")


async def test_a_request_with_images_is_refused_in_words_before_any_provider(
    services: Services,
) -> None:
    with pytest.raises(InvalidRequest, match="images"):
        await services.routing.complete(ask(STARTER_ID, images=("aGVsbG8=",)))
    with pytest.raises(InvalidRequest, match="images"):
        await services.routing.complete(ask("gpt-4o-mini", images=("aGVsbG8=",)))
    assert services.runtime.loaded_models() == []

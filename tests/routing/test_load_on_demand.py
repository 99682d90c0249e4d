"""Models loaded on demand through the routing service, on the real embedded engine: a request
naming an installed model loads it, concurrent requests share one load, the default (else the
starter) loads when nothing is named, and idle models unload after their keep-alive."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from lexitui.config import Paths
from lexitui.domain.inference import InvalidRequest
from lexitui.domain.language_model import EmbeddingRequest, LanguageModelRequest, Message
from lexitui.domain.routing import OptimizationGoal
from lexitui.events import Event, ModelLoadStarted, ModelUnloaded
from lexitui.routing.errors import FailureKind, ProviderError, RoutingError
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID
from tests.gateway.conftest import start_gateway
from tests.home_config import write_test_config
from tests.waiting import until

pytestmark = pytest.mark.engine
SECOND = "starter-copy"


def ask(model: str | None = None, **parameters: object) -> LanguageModelRequest:
    return LanguageModelRequest(
        messages=(Message("user", "Say hi."),), model=model, max_tokens=4, parameters=parameters
    )


def loaded_ids(services: Services) -> set[str]:
    return {m.model.id for m in services.runtime.loaded_models()}


@pytest.fixture
def config_text() -> str:
    return ""


@pytest.fixture
async def services(paths: Paths, starter_path: Path, config_text: str) -> AsyncIterator[Services]:
    """Services over a config of the test's own, with a second installed model (the starter's
    file under another id) and nothing loaded."""
    write_test_config(paths.config_file, config_text)
    built = Services.build(paths)
    await built.start()
    await built.registry.add(
        SECOND, "Starter copy", starter_path, source="test", registered_by_path=True
    )
    try:
        yield built
    finally:
        await built.stop()


async def test_two_installed_models_named_in_turn_both_load_on_demand(
    services: Services,
) -> None:
    first = await services.routing.complete(ask(SECOND))
    assert (first.provider_id, first.model_id) == ("local", SECOND) and first.text
    second = await services.routing.complete(ask(STARTER_ID))
    assert (second.provider_id, second.model_id) == ("local", STARTER_ID) and second.text
    assert loaded_ids(services) == {SECOND, STARTER_ID}
    # Each keeps the default keep-alive (five minutes): it shows when it would unload.
    assert all(m.expires_at is not None for m in services.runtime.loaded_models())


async def test_concurrent_requests_for_a_loading_model_share_one_load(
    services: Services,
) -> None:
    seen: list[Event] = []
    services.bus.inference.subscribe(seen.append)
    answers = await asyncio.gather(*(services.routing.complete(ask(SECOND)) for _ in range(3)))
    assert [a.model_id for a in answers] == [SECOND] * 3
    started = [e for e in seen if isinstance(e, ModelLoadStarted)]
    assert [e.model_id for e in started] == [SECOND]
    assert [m.model.id for m in services.runtime.loaded_models()] == [SECOND]


async def test_nothing_named_and_nothing_loaded_loads_the_starter(services: Services) -> None:
    routed = await services.routing.route(ask())  # what `lexitui route --dry-run` shows
    assert (routed.decision.provider_id, routed.model_id) == ("local", STARTER_ID)
    assert f"{STARTER_ID} loads on first use" in services.routing.local.available_now()[1]
    assert services.routing.optimizer is not None
    goal = OptimizationGoal.BALANCE_ALL
    best = await services.routing.optimizer.get_recommendation(ask(), goal)  # `recommend`
    assert (best.provider_id, best.model_id) == ("local", STARTER_ID)
    assert services.runtime.loaded_models() == []  # deciding loads nothing
    answer = await services.routing.complete(ask())
    assert (answer.provider_id, answer.model_id) == ("local", STARTER_ID) and answer.text


@pytest.mark.parametrize("config_text", [f'[routing]\nlocal_model = "{SECOND}"'])
async def test_nothing_named_loads_the_configured_default(services: Services) -> None:
    answer = await services.routing.complete(ask())
    assert answer.model_id == SECOND and loaded_ids(services) == {SECOND}


async def test_a_name_neither_installed_nor_loaded_is_not_found_not_another_model(
    services: Services,
) -> None:
    with pytest.raises(ProviderError) as caught:
        await services.routing.local.generate(ask("no-such-model"))
    assert caught.value.kind is FailureKind.BAD_REQUEST and caught.value.status == 404
    assert caught.value.message == "model 'no-such-model' not found"
    assert services.runtime.loaded_models() == []


@pytest.mark.parametrize("config_text", ["[runtime]\nmemory_budget_gb = 0.001"])
async def test_a_model_that_does_not_fit_fails_at_once_with_the_reason(
    services: Services,
) -> None:
    with pytest.raises(ProviderError) as caught:
        await asyncio.wait_for(services.routing.local.generate(ask(SECOND)), 60)
    assert caught.value.kind is FailureKind.UNAVAILABLE
    assert caught.value.message.startswith(f"{SECOND} could not be loaded: ")
    assert "budget" in caught.value.message
    assert services.runtime.loaded_models() == []


@pytest.mark.parametrize("config_text", ['[runtime]\nkeep_alive = "1s"'])
async def test_an_idle_model_unloads_after_the_configured_keep_alive(
    services: Services,
) -> None:
    seen: list[Event] = []
    services.bus.inference.subscribe(seen.append)
    await services.routing.complete(ask(SECOND))
    [loaded] = services.runtime.loaded_models()
    assert loaded.expires_at is not None
    await until(lambda: any(isinstance(e, ModelUnloaded) for e in seen))
    assert services.runtime.loaded_models() == []
    [unloaded] = [e for e in seen if isinstance(e, ModelUnloaded)]
    assert unloaded.model_id == SECOND and unloaded.reason == "idle past its keep-alive (1s)"


async def test_a_request_keep_alive_of_zero_unloads_after_the_answer(services: Services) -> None:
    answer = await services.routing.complete(ask(SECOND, keep_alive=0))
    assert answer.text
    await until(lambda: services.runtime.loaded_models() == [])


@pytest.mark.parametrize("config_text", ['[runtime]\nkeep_alive = "1s"'])
async def test_a_negative_keep_alive_keeps_the_model_loaded(services: Services) -> None:
    await services.routing.complete(ask(SECOND, keep_alive=-1))
    [loaded] = services.runtime.loaded_models()
    assert loaded.expires_at is None
    await asyncio.sleep(1.5)  # past the configured second
    assert loaded_ids(services) == {SECOND}
    # A later request's own keep-alive replaces it.
    await services.routing.complete(ask(SECOND, keep_alive="0s"))
    await until(lambda: services.runtime.loaded_models() == [])


async def test_a_model_loaded_by_the_user_stays_until_unloaded(services: Services) -> None:
    loaded = await services.runtime.load(SECOND)
    assert loaded.expires_at is None
    await services.routing.complete(ask(SECOND))  # no keep_alive given: it stays as it was
    assert services.runtime.loaded_models()[0].expires_at is None


async def test_a_bad_keep_alive_is_a_400_and_loads_nothing_and_a_ttl_of_0_lets_go(
    services: Services,
) -> None:
    async with (
        start_gateway(services.routing) as gateway,
        httpx.AsyncClient(base_url=gateway.base_url) as client,
    ):
        response = await client.post(
            "/chat/completions",
            json={
                "model": SECOND,
                "messages": [{"role": "user", "content": "hi"}],
                "keep_alive": "soon",
            },
        )
        assert response.status_code == 400
        message = response.json()["error"]["message"]
        assert "keep_alive 'soon' is not a duration" in message
        assert services.runtime.loaded_models() == []
        # LM Studio's spelling, a number of seconds: 0 lets the model go after the answer.
        body = {"model": SECOND, "messages": [{"role": "user", "content": "hi"}], "ttl": 0}
        response = await client.post("/chat/completions", json={**body, "max_tokens": 2})
        assert response.status_code == 200, response.text
        await until(lambda: services.runtime.loaded_models() == [])


async def test_after_an_engine_dies_the_starter_is_not_loaded_in_its_place(
    services: Services,
) -> None:
    """A crash is reported (and the request falls back), not hidden behind a fresh model."""
    routing = services.routing  # listening before the engine dies
    loaded = await services.runtime.load(SECOND)
    assert loaded.pid is not None
    os.kill(loaded.pid, signal.SIGKILL)
    await until(lambda: services.runtime.loaded_models() == [])
    ok, reason = routing.local.available_now()
    assert not ok and reason.startswith(f"local model unavailable: {SECOND}")
    with pytest.raises(RoutingError, match="SIGKILL"):
        await routing.complete(ask())
    assert services.runtime.loaded_models() == []
    # A model loaded again (by the user, or by the server's reloader) serves as before.
    await services.runtime.load(SECOND)
    assert (await routing.complete(ask())).model_id == SECOND


@pytest.mark.parametrize("config_text", ['[runtime]\nkeep_alive = "1s"'])
async def test_a_load_whose_caller_hung_up_still_unloads_when_idle(services: Services) -> None:
    seen: list[Event] = []
    services.bus.inference.subscribe(seen.append)
    request = asyncio.ensure_future(services.routing.complete(ask(SECOND)))
    await until(lambda: any(isinstance(e, ModelLoadStarted) for e in seen))
    request.cancel()  # the client hung up while its model was loading
    with pytest.raises(asyncio.CancelledError):
        await request
    await until(lambda: any(isinstance(e, ModelUnloaded) for e in seen), 30)
    assert services.runtime.loaded_models() == []


async def test_embeddings_naming_a_model_load_it_on_demand(services: Services) -> None:
    answer = await services.routing.embed(EmbeddingRequest(texts=("hello",), model=SECOND))
    assert answer.model_id == SECOND and len(answer.embeddings[0]) == 576
    assert loaded_ids(services) == {SECOND}


async def test_a_model_is_loaded_without_a_question_and_let_go_the_same_way(
    services: Services,
) -> None:
    """What an Ollama client's empty chat or generate asks: load it, or with 0, unload it."""
    local = services.routing.local
    assert local.catalog is not None
    await local.catalog.refresh()
    assert await local.preload(SECOND) == SECOND
    [loaded] = services.runtime.loaded_models()
    assert loaded.model.id == SECOND and loaded.expires_at is not None  # the 5m default
    assert await local.preload(SECOND, -1) == SECOND
    assert services.runtime.loaded_models()[0].expires_at is None
    with pytest.raises(InvalidRequest, match="not a duration"):
        await local.preload(SECOND, "whenever")
    await local.preload(SECOND, 0)
    await until(lambda: services.runtime.loaded_models() == [])
    with pytest.raises(ProviderError, match="model 'no-such-model' not found"):
        await local.preload("no-such-model")

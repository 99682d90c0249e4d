"""AzureOpenAIProvider: deployment paths, the api-version query, the api-key header, and
OpenAI's shapes reused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from lexitui.domain.language_model import EmbeddingRequest, LanguageModelRequest, Message
from lexitui.routing.cloud_azure import AzureOpenAIProvider
from lexitui.routing.errors import FailureKind, ProviderError
from lexitui.routing.settings import ProviderSettings
from tests.fakes.cloud_common import TEST_KEY
from tests.fakes.cloud_openai import FakeOpenAI

ASK = LanguageModelRequest(messages=(Message("user", "hi azure"),), max_tokens=20)


@pytest.fixture
async def cloud() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(deployments={"my-gpt4o": "gpt-4o", "gpt-4o-mini": "gpt-4o-mini"}) as fake:
        yield fake


def make(
    cloud: FakeOpenAI, key: str | None = TEST_KEY, model: str = "gpt-4o"
) -> AzureOpenAIProvider:
    settings = ProviderSettings(
        id="azure",
        kind="azure",
        base_url=cloud.azure_url,
        model=model,
        api_version="2024-10-21",
        deployments={"gpt-4o": "my-gpt4o"},
        api_key_env="AZURE_OPENAI_API_KEY",
    )
    return AzureOpenAIProvider(settings, key)


async def test_generate_goes_to_the_deployment_with_api_key_header(cloud: FakeOpenAI) -> None:
    provider = make(cloud)
    response = await provider.generate(ASK)
    await provider.aclose()
    assert response.text == "Cloud says: hi azure" and response.model_id == "gpt-4o"
    seen = cloud.requests[-1]
    assert seen.path == "/openai/deployments/my-gpt4o/chat/completions"
    assert seen.query == {"api-version": "2024-10-21"}
    assert seen.headers["api-key"] == TEST_KEY and "authorization" not in seen.headers
    assert "model" not in seen.body and seen.body["max_tokens"] == 20


async def test_model_without_deployment_entry_uses_its_own_name(cloud: FakeOpenAI) -> None:
    provider = make(cloud, model="gpt-4o-mini")
    response = await provider.generate(ASK)
    await provider.aclose()
    assert response.text == "Cloud says: hi azure"
    assert cloud.requests[-1].path == "/openai/deployments/gpt-4o-mini/chat/completions"


async def test_stream_reads_usage_chunk(cloud: FakeOpenAI) -> None:
    provider = make(cloud)
    chunks = [c async for c in provider.stream(ASK)]
    await provider.aclose()
    response = chunks[-1].response
    assert response is not None and response.text == "Cloud says: hi azure"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (2, 4)
    assert cloud.requests[-1].body["stream_options"] == {"include_usage": True}


async def test_embeddings_go_to_the_deployment(cloud: FakeOpenAI) -> None:
    provider = make(cloud)
    result = await provider.embed(EmbeddingRequest(texts=("a b",), model="gpt-4o"))
    await provider.aclose()
    assert len(result.embeddings) == 1 and result.prompt_tokens == 2
    assert cloud.requests[-1].path == "/openai/deployments/my-gpt4o/embeddings"


async def test_unknown_deployment_is_a_bad_request(cloud: FakeOpenAI) -> None:
    provider = make(cloud, model="nope")
    with pytest.raises(ProviderError) as caught:
        await provider.generate(ASK)
    await provider.aclose()
    assert caught.value.kind is FailureKind.BAD_REQUEST and caught.value.status == 404
    assert "DeploymentNotFound" in caught.value.message


async def test_wrong_key_is_auth_and_missing_key_unavailable(cloud: FakeOpenAI) -> None:
    provider = make(cloud, key="not-the-azure-key-123")
    with pytest.raises(ProviderError) as caught:
        await provider.generate(ASK)
    assert caught.value.kind is FailureKind.AUTH
    assert not await provider.is_available()
    await provider.aclose()
    keyless = make(cloud, key=None)
    assert keyless.available_now() == (False, "no API key (set AZURE_OPENAI_API_KEY)")


async def test_rate_limit_with_retry_after(cloud: FakeOpenAI) -> None:
    cloud.rate_limit = 1
    cloud.retry_after = "3"
    provider = make(cloud)
    with pytest.raises(ProviderError) as caught:
        await provider.generate(ASK)
    await provider.aclose()
    assert caught.value.kind is FailureKind.RATE_LIMITED and caught.value.retry_after_s == 3.0


async def test_is_available_lists_models_with_api_version(cloud: FakeOpenAI) -> None:
    provider = make(cloud)
    assert await provider.is_available()
    await provider.aclose()
    seen = cloud.requests[-1]
    assert seen.path == "/openai/models" and seen.query["api-version"] == "2024-10-21"

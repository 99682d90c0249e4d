"""OpenAIProvider against the fake OpenAI API: answers, streams with include_usage, and every
failure mapped to the kind the fallback manager acts on."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from lexitui.domain.language_model import (
    EmbeddingRequest,
    LanguageModelChunk,
    LanguageModelRequest,
    Message,
)
from lexitui.routing.cloud_http import retry_after_s
from lexitui.routing.cloud_openai import OpenAIProvider
from lexitui.routing.errors import FailureKind, ProviderError
from lexitui.routing.settings import ProviderSettings
from tests.fakes.cloud_common import TEST_KEY
from tests.fakes.cloud_openai import FakeOpenAI

ASK = LanguageModelRequest(
    messages=(Message("system", "Be brief."), Message("user", "hello there")), max_tokens=50
)


@pytest.fixture
async def cloud() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


def make(
    cloud: FakeOpenAI, *, kind: str = "openai", key: str | None = TEST_KEY, timeout_s: float = 5.0
) -> OpenAIProvider:
    settings = ProviderSettings(
        id="openai",
        kind=kind,
        base_url=cloud.base_url,
        model="gpt-4o-mini",
        models=("gpt-4o-mini", "text-embedding-3-small"),
        api_key_env="OPENAI_API_KEY",
        timeout_s=timeout_s,
    )
    return OpenAIProvider(settings, key)


async def collect(
    provider: OpenAIProvider, request: LanguageModelRequest
) -> list[LanguageModelChunk]:
    return [chunk async for chunk in provider.stream(request)]


async def failure(provider: OpenAIProvider, request: LanguageModelRequest = ASK) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await provider.generate(request)
    return caught.value


async def test_generate_sends_chat_and_reads_answer(cloud: FakeOpenAI) -> None:
    provider = make(cloud)
    response = await provider.generate(ASK)
    await provider.aclose()
    assert response.text == "Cloud says: hello there"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (4, 4)
    assert response.finish_reason == "stop"
    assert response.model_id == "gpt-4o-mini"  # the configured name, not the dated snapshot
    assert response.latency_ms > 0 and response.ttft_ms is None
    seen = cloud.requests[-1]
    assert seen.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert seen.body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert seen.body["max_completion_tokens"] == 50 and "max_tokens" not in seen.body


async def test_prompt_only_request_becomes_one_user_message(cloud: FakeOpenAI) -> None:
    provider = make(cloud)
    request = LanguageModelRequest(prompt="just words", temperature=0.2, seed=7, stop=("zzz",))
    response = await provider.generate(request)
    await provider.aclose()
    assert response.text == "Cloud says: just words"
    body = cloud.requests[-1].body
    assert body["messages"] == [{"role": "user", "content": "just words"}]
    assert (body["temperature"], body["seed"], body["stop"]) == (0.2, 7, ["zzz"])


async def test_stream_yields_pieces_then_complete_response_with_usage(cloud: FakeOpenAI) -> None:
    provider = make(cloud)
    chunks = await collect(provider, ASK)
    await provider.aclose()
    text_chunks, last = chunks[:-1], chunks[-1]
    assert "".join(c.text for c in text_chunks) == "Cloud says: hello there"
    assert [c.index for c in text_chunks] == list(range(len(text_chunks)))
    assert last.is_complete and last.response is not None and last.finish_reason == "stop"
    response = last.response
    assert response.text == "Cloud says: hello there"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (4, 4)
    assert response.ttft_ms is not None and 0 < response.ttft_ms <= response.latency_ms
    body = cloud.requests[-1].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


async def test_stream_stopped_by_max_tokens_says_length(cloud: FakeOpenAI) -> None:
    provider = make(cloud)
    chunks = await collect(provider, LanguageModelRequest(prompt="a b c d e", max_tokens=3))
    await provider.aclose()
    response = chunks[-1].response
    assert response is not None
    assert response.text == "Cloud says: a" and response.finish_reason == "length"
    assert response.usage.completion_tokens == 3


async def test_compatible_endpoint_works_without_key_and_sends_max_tokens() -> None:
    async with FakeOpenAI() as cloud:
        cloud.api_key = None  # a local server with no auth
        provider = make(cloud, kind="openai_compatible", key=None)
        assert provider.available_now() == (True, "ready")
        response = await provider.generate(ASK)
        await provider.aclose()
    assert response.text == "Cloud says: hello there"
    seen = cloud.requests[-1]
    assert "authorization" not in seen.headers
    assert seen.body["max_tokens"] == 50 and "max_completion_tokens" not in seen.body


async def test_openai_without_key_is_unavailable_and_sends_nothing(cloud: FakeOpenAI) -> None:
    provider = make(cloud, key=None)
    assert provider.available_now() == (False, "no API key (set OPENAI_API_KEY)")
    err = await failure(provider)
    assert err.kind is FailureKind.UNAVAILABLE
    assert not await provider.is_available()
    assert cloud.requests == []


async def test_rate_limit_carries_retry_after_and_is_not_retried(cloud: FakeOpenAI) -> None:
    cloud.rate_limit = 1
    provider = make(cloud)
    err = await failure(provider)
    assert err.kind is FailureKind.RATE_LIMITED and err.status == 429
    assert err.retry_after_s == 2.0
    assert len(cloud.requests) == 1  # the provider left retrying to the fallback manager
    assert (await provider.generate(ASK)).text.startswith("Cloud says")
    await provider.aclose()


async def test_insufficient_quota_is_not_a_rate_limit(cloud: FakeOpenAI) -> None:
    cloud.quota_exceeded = True
    provider = make(cloud)
    err = await failure(provider)
    await provider.aclose()
    assert err.kind is FailureKind.QUOTA_EXCEEDED and err.status == 429
    assert err.retry_after_s is None and "quota" in err.message


async def test_503_is_overloaded(cloud: FakeOpenAI) -> None:
    cloud.overloaded = True
    provider = make(cloud)
    err = await failure(provider)
    await provider.aclose()
    assert err.kind is FailureKind.OVERLOADED and err.status == 503


async def test_wrong_key_is_auth(cloud: FakeOpenAI) -> None:
    provider = make(cloud, key="sk-wrong-key-0000000000")
    err = await failure(provider)
    assert err.kind is FailureKind.AUTH and err.status == 401
    assert not await provider.is_available()
    await provider.aclose()


@pytest.mark.parametrize("cut_connection", [False, True])
async def test_failure_after_text_is_stream_broken_without_repeats(
    cloud: FakeOpenAI, cut_connection: bool
) -> None:
    cloud.break_mid_stream = True
    cloud.cut_connection = cut_connection
    provider = make(cloud)
    got: list[LanguageModelChunk] = []
    with pytest.raises(ProviderError) as caught:
        async for chunk in provider.stream(ASK):
            got.append(chunk)
    await provider.aclose()
    assert caught.value.kind is FailureKind.STREAM_BROKEN
    assert "".join(c.text for c in got) == "Cloud says:"
    assert not any(c.is_complete for c in got)


async def test_stream_error_before_text_keeps_its_kind(cloud: FakeOpenAI) -> None:
    cloud.break_mid_stream = True
    cloud.break_after_words = 0
    provider = make(cloud)
    with pytest.raises(ProviderError) as caught:
        await collect(provider, ASK)
    await provider.aclose()
    assert caught.value.kind is FailureKind.SERVER_ERROR


@pytest.mark.parametrize("streamed", [False, True])
async def test_stall_after_headers_times_out_in_time(cloud: FakeOpenAI, streamed: bool) -> None:
    cloud.stall_s = 5.0
    provider = make(cloud, timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        if streamed:
            await collect(provider, ASK)
        else:
            await provider.generate(ASK)
    await provider.aclose()
    assert caught.value.kind is FailureKind.TIMEOUT
    assert time.monotonic() - started < 2.0


async def test_refused_connection_is_unavailable_and_recovers(cloud: FakeOpenAI) -> None:
    provider = make(cloud)
    await cloud.set_down(True)
    err = await failure(provider)
    assert err.kind is FailureKind.UNAVAILABLE
    assert not await provider.is_available()
    await cloud.set_down(False)
    assert await provider.is_available()
    await provider.aclose()


async def test_embeddings_in_order_with_usage(cloud: FakeOpenAI) -> None:
    provider = make(cloud)
    result = await provider.embed(EmbeddingRequest(texts=("one two", "three")))
    await provider.aclose()
    assert len(result.embeddings) == 2 and all(len(v) == 8 for v in result.embeddings)
    assert result.embeddings[0] != result.embeddings[1]
    assert result.model_id == "text-embedding-3-small" and result.prompt_tokens == 3
    assert cloud.requests[-1].body["input"] == ["one two", "three"]


async def test_models_come_from_config_without_network(cloud: FakeOpenAI) -> None:
    provider = make(cloud)
    models = await provider.get_models()
    assert [m.id for m in models] == ["gpt-4o-mini", "text-embedding-3-small"]
    assert [m.supports_embeddings for m in models] == [False, True]
    assert cloud.requests == [] and provider.default_model == "gpt-4o-mini"
    assert await provider.is_available()
    assert cloud.requests[-1].path == "/v1/models"
    await provider.aclose()


def test_retry_after_forms() -> None:
    now = time.time()
    date = format_datetime(datetime.fromtimestamp(now, UTC) + timedelta(seconds=30), usegmt=True)
    assert retry_after_s({"Retry-After": "7"}) == 7.0
    assert retry_after_s({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert 28 <= (retry_after_s({"retry-after": date}, now=now) or 0) <= 31
    assert retry_after_s({"retry-after": "garbage"}) is None
    reset = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "6m0s"}
    assert retry_after_s(reset) == 360.0
    assert retry_after_s({"x-ratelimit-reset-tokens": "20ms"}) == 0.02
    spare = {"x-ratelimit-remaining-tokens": "900", "x-ratelimit-reset-tokens": "1s"}
    assert retry_after_s(spare) is None

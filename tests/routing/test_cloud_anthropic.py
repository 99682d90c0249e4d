"""AnthropicProvider against the fake Messages API: the system field, required max_tokens,
named stream events, and 429/529/billing/mid-stream errors."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from lexitui.domain.language_model import (
    EmbeddingRequest,
    LanguageModelChunk,
    LanguageModelRequest,
    Message,
)
from lexitui.routing.cloud_anthropic import AnthropicProvider
from lexitui.routing.cloud_http import kind_for, parse_error_body
from lexitui.routing.errors import FailureKind, ProviderError
from lexitui.routing.settings import ProviderSettings
from tests.fakes.cloud_anthropic import FakeAnthropic
from tests.fakes.cloud_common import TEST_KEY

ASK = LanguageModelRequest(
    messages=(Message("system", "Be brief."), Message("user", "hello claude friend"))
)


@pytest.fixture
async def cloud() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic() as fake:
        yield fake


def make(
    cloud: FakeAnthropic, key: str | None = TEST_KEY, timeout_s: float = 5.0, suffix: str = ""
) -> AnthropicProvider:
    settings = ProviderSettings(
        id="anthropic",
        kind="anthropic",
        base_url=cloud.base_url + suffix,
        model="claude-sonnet-4-5",
        api_key_env="ANTHROPIC_API_KEY",
        timeout_s=timeout_s,
    )
    return AnthropicProvider(settings, key)


async def failure(provider: AnthropicProvider, streamed: bool = False) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        if streamed:
            _ = [c async for c in provider.stream(ASK)]
        else:
            await provider.generate(ASK)
    await provider.aclose()
    return caught.value


async def test_generate_puts_system_on_top_and_requires_max_tokens(cloud: FakeAnthropic) -> None:
    provider = make(cloud)
    response = await provider.generate(ASK)
    await provider.aclose()
    assert response.text == "Cloud says: hello claude friend"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (5, 5)
    assert response.finish_reason == "stop"
    seen = cloud.requests[-1]
    assert seen.path == "/v1/messages"
    assert seen.headers["x-api-key"] == TEST_KEY and "authorization" not in seen.headers
    assert seen.headers["anthropic-version"] == "2023-06-01"
    assert seen.body["system"] == "Be brief."
    assert seen.body["messages"] == [{"role": "user", "content": "hello claude friend"}]
    assert seen.body["max_tokens"] == 1024


async def test_stream_follows_the_event_order(cloud: FakeAnthropic) -> None:
    provider = make(cloud)
    chunks = [c async for c in provider.stream(ASK)]
    await provider.aclose()
    assert "".join(c.text for c in chunks[:-1]) == "Cloud says: hello claude friend"
    last = chunks[-1]
    assert last.is_complete and last.finish_reason == "stop" and last.response is not None
    usage = last.response.usage  # input from message_start, output from message_delta
    assert (usage.prompt_tokens, usage.completion_tokens) == (5, 5)
    assert last.response.ttft_ms is not None


async def test_max_tokens_stop_reason_is_length(cloud: FakeAnthropic) -> None:
    provider = make(cloud, suffix="/v1")  # a base_url written with /v1 works too
    request = LanguageModelRequest(prompt="one two three four", max_tokens=2)
    chunks = [c async for c in provider.stream(request)]
    response = await provider.generate(request)
    await provider.aclose()
    assert chunks[-1].finish_reason == "length" and response.finish_reason == "length"
    assert response.text == "Cloud says:" and cloud.requests[-1].body["max_tokens"] == 2


async def test_rate_limit_has_retry_after(cloud: FakeAnthropic) -> None:
    cloud.rate_limit = 1
    err = await failure(make(cloud))
    assert err.kind is FailureKind.RATE_LIMITED and err.status == 429
    assert err.retry_after_s == 2.0 and "rate_limit_error" in err.message


async def test_529_is_overloaded(cloud: FakeAnthropic) -> None:
    cloud.overloaded = True
    err = await failure(make(cloud), streamed=True)
    assert err.kind is FailureKind.OVERLOADED and err.status == 529


async def test_billing_error_is_quota_exceeded(cloud: FakeAnthropic) -> None:
    cloud.quota_exceeded = True
    err = await failure(make(cloud))
    assert err.kind is FailureKind.QUOTA_EXCEEDED and err.retry_after_s is None


def test_low_credit_400_is_quota_exceeded() -> None:
    def body(message: str) -> dict[str, Any]:
        return {"type": "error", "error": {"type": "invalid_request_error", "message": message}}

    low = body("Your credit balance is too low to access the Anthropic API.")
    assert kind_for(400, parse_error_body(low)) is FailureKind.QUOTA_EXCEEDED
    assert kind_for(400, parse_error_body(body("bad"))) is FailureKind.BAD_REQUEST


async def test_overloaded_event_after_text_breaks_stream_without_repeats(
    cloud: FakeAnthropic,
) -> None:
    cloud.break_mid_stream = True
    provider = make(cloud)
    got: list[LanguageModelChunk] = []
    with pytest.raises(ProviderError) as caught:
        async for chunk in provider.stream(ASK):
            got.append(chunk)
    await provider.aclose()
    assert caught.value.kind is FailureKind.STREAM_BROKEN
    assert "overloaded_error" in caught.value.message
    assert "".join(c.text for c in got) == "Cloud says:" and not any(c.is_complete for c in got)


async def test_overloaded_event_before_text_is_overloaded(cloud: FakeAnthropic) -> None:
    cloud.break_mid_stream = True
    cloud.break_after_words = 0
    err = await failure(make(cloud), streamed=True)
    assert err.kind is FailureKind.OVERLOADED


async def test_cut_connection_after_text_is_stream_broken(cloud: FakeAnthropic) -> None:
    cloud.break_mid_stream = True
    cloud.cut_connection = True
    err = await failure(make(cloud), streamed=True)
    assert err.kind is FailureKind.STREAM_BROKEN


async def test_stall_times_out(cloud: FakeAnthropic) -> None:
    cloud.stall_s = 5.0
    started = time.monotonic()
    err = await failure(make(cloud, timeout_s=0.5), streamed=True)
    assert err.kind is FailureKind.TIMEOUT and time.monotonic() - started < 2.0


async def test_down_is_unavailable_and_wrong_key_is_auth(cloud: FakeAnthropic) -> None:
    err = await failure(make(cloud, key="sk-ant-wrong-000000"))
    assert err.kind is FailureKind.AUTH and err.status == 401
    await cloud.set_down(True)
    err = await failure(make(cloud))
    assert err.kind is FailureKind.UNAVAILABLE


async def test_is_available_and_no_embeddings(cloud: FakeAnthropic) -> None:
    provider = make(cloud)
    assert await provider.is_available()
    assert cloud.requests[-1].path == "/v1/models"
    with pytest.raises(ProviderError) as caught:
        await provider.embed(EmbeddingRequest(texts=("x",)))
    await provider.aclose()
    assert caught.value.kind is FailureKind.BAD_REQUEST
    assert make(cloud, key=None).available_now() == (False, "no API key (set ANTHROPIC_API_KEY)")

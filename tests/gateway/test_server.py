"""The gateway over real HTTP, with the official ``openai`` SDK as the client."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from lexitui.domain.language_model import TaskType
from lexitui.domain.routing import RoutingStrategy
from lexitui.gateway import Gateway, GatewayConfigError
from lexitui.routing.errors import (
    AllProvidersFailed,
    BudgetExceeded,
    FailureKind,
    ProviderError,
)
from lexitui.routing.gateway_settings import GatewaySettings
from tests.gateway.conftest import PROMPT_TOKENS, FakeRouter, start_gateway

pytestmark = pytest.mark.timeout(20)
CHAT: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "hi"},
]


def sync_client(gateway: Gateway, key: str = "unused") -> openai.OpenAI:
    # No retries: a 429 or 503 must reach the test, not be retried behind its back.
    return openai.OpenAI(base_url=gateway.base_url, api_key=key, max_retries=0, timeout=10)


def async_client(gateway: Gateway, key: str = "unused") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=gateway.base_url, api_key=key, max_retries=0, timeout=10)


async def test_chat_completion_with_the_sync_sdk() -> None:
    router = FakeRouter()
    async with start_gateway(router) as gateway:
        client = sync_client(gateway)
        reply = await asyncio.to_thread(
            client.chat.completions.create,
            model="fake-model",
            messages=CHAT,
            max_tokens=20,
            temperature=0.2,
            seed=3,
        )
    assert reply.id.startswith("chatcmpl-")
    assert reply.object == "chat.completion"
    assert reply.choices[0].message.content == "Hello, world!"
    assert reply.choices[0].message.role == "assistant"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.total_tokens) == (PROMPT_TOKENS, 11)
    request = router.requests[0]
    assert [(m.role, m.content) for m in request.messages] == [
        ("system", "be brief"),
        ("user", "hi"),
    ]
    assert (request.model, request.max_tokens, request.temperature, request.seed) == (
        "fake-model",
        20,
        0.2,
        3,
    )
    assert router.sources == ["gateway"]


async def test_chat_stream_sends_role_text_finish_and_usage() -> None:
    async with start_gateway(FakeRouter()) as gateway:
        stream = await async_client(gateway).chat.completions.create(
            model="fake-model",
            messages=CHAT,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello, world!"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 4
    assert len({c.id for c in chunks}) == 1


async def test_completions_plain_and_streamed() -> None:
    router = FakeRouter()
    async with start_gateway(router) as gateway:
        client = sync_client(gateway)
        reply = await asyncio.to_thread(
            client.completions.create, model="fake-model", prompt="Once upon", stop=["\n"]
        )

        def streamed() -> list[Any]:
            return list(client.completions.create(model="m", prompt=["Once"], stream=True))

        chunks = await asyncio.to_thread(streamed)
    assert reply.object == "text_completion"
    assert reply.choices[0].text == "Hello, world!"
    assert "".join(c.choices[0].text for c in chunks) == "Hello, world!"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert router.requests[0].prompt == "Once upon"
    assert router.requests[0].stop == ("\n",)
    assert router.requests[0].task is TaskType.COMPLETION


async def test_embeddings_as_floats_and_base64() -> None:
    router = FakeRouter()
    async with start_gateway(router) as gateway:
        client = async_client(gateway)
        floats = await client.embeddings.create(
            model="e", input=["ab", "abcd"], encoding_format="float"
        )
        default = await client.embeddings.create(model="e", input="abc")  # the SDK asks base64
    assert [d.embedding for d in floats.data] == [[2.0, 0.5, -1.0], [4.0, 0.5, -1.0]]
    assert [d.index for d in floats.data] == [0, 1]
    assert default.data[0].embedding == [3.0, 0.5, -1.0]
    assert router.embed_requests[0].texts == ("ab", "abcd")


async def test_models_list_and_retrieve() -> None:
    async with start_gateway(FakeRouter()) as gateway:
        client = async_client(gateway)
        models = await client.models.list()
        one = await client.models.retrieve("cloud-model")
        with pytest.raises(openai.NotFoundError):
            await client.models.retrieve("nope")
    assert [m.id for m in models.data] == ["fake-model", "cloud-model"]
    assert one.owned_by == "openai"


async def test_bad_request_is_a_400_naming_the_field() -> None:
    router = FakeRouter()
    async with start_gateway(router) as gateway:
        with pytest.raises(openai.BadRequestError) as caught:
            await async_client(gateway).chat.completions.create(
                model="m",
                messages=CHAT,
                temperature=7,
            )
    assert caught.value.status_code == 400
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["param"] == "temperature"
    assert caught.value.body["type"] == "invalid_request_error"
    assert router.requests == []


async def test_rate_limit_before_the_first_token_is_a_429_not_a_stream() -> None:
    router = FakeRouter(
        fail=ProviderError("openai", FailureKind.RATE_LIMITED, "slow down", retry_after_s=1.2)
    )
    async with start_gateway(router) as gateway:
        with pytest.raises(openai.RateLimitError) as caught:
            await async_client(gateway).chat.completions.create(
                model="m",
                messages=CHAT,
                stream=True,
            )
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "2"
    assert caught.value.response.headers["content-type"] == "application/json"
    assert router.closed.is_set()


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (AllProvidersFailed("local: down; openai: down", []), 503, "all_providers_failed"),
        (BudgetExceeded("openai", "daily budget spent"), 429, "insufficient_quota"),
        (ProviderError("openai", FailureKind.TIMEOUT, "no first token"), 504, "timeout"),
        (ProviderError("openai", FailureKind.AUTH, "key rejected"), 502, "upstream_auth_failed"),
    ],
)
async def test_router_failures_get_their_status(error: Exception, status: int, code: str) -> None:
    async with start_gateway(FakeRouter(fail=error)) as gateway:
        with pytest.raises(openai.APIStatusError) as caught:
            await async_client(gateway).chat.completions.create(
                model="m",
                messages=CHAT,
            )
    assert caught.value.status_code == status
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == code


async def test_failure_after_the_first_token_is_an_error_frame() -> None:
    broken = ProviderError("local", FailureKind.STREAM_BROKEN, "engine died")
    async with start_gateway(FakeRouter(fail=broken, fail_after=2)) as gateway:
        stream = await async_client(gateway).chat.completions.create(
            model="m",
            messages=CHAT,
            stream=True,
        )
        received: list[str] = []
        with pytest.raises(openai.APIError, match="engine died"):
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "Hello, "


async def test_client_hanging_up_mid_stream_closes_the_router_stream() -> None:
    router = FakeRouter(hang=True)
    async with start_gateway(router) as gateway:
        stream = await async_client(gateway).chat.completions.create(
            model="m",
            messages=CHAT,
            stream=True,
        )
        first = [await stream.__anext__() for _ in range(2)]  # the role, then "Hello"
        assert first[1].choices[0].delta.content == "Hello"
        assert not router.closed.is_set()
        await stream.close()
        await asyncio.wait_for(router.closed.wait(), 5)


async def test_no_key_off_loopback_refuses_to_start() -> None:
    gateway = Gateway(FakeRouter(), GatewaySettings(host="0.0.0.0", port=0), None)
    with pytest.raises(GatewayConfigError, match="LEXITUI_GATEWAY_KEY"):
        await gateway.start()
    assert gateway.address is None


async def test_a_key_is_required_when_set() -> None:
    async with start_gateway(FakeRouter(), api_key="s3cret-key") as gateway:
        with pytest.raises(openai.AuthenticationError) as caught:
            await async_client(gateway, "wrong").models.list()
        ok = await async_client(gateway, "s3cret-key").models.list()
        async with httpx.AsyncClient() as http:
            missing = await http.get(f"{gateway.base_url}/models")
            health = await http.get(gateway.base_url.removesuffix("/v1") + "/health")
    assert caught.value.status_code == 401
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "invalid_api_key"
    assert "wrong" not in caught.value.message
    assert len(ok.data) == 2
    assert missing.status_code == 401
    assert health.status_code == 200


async def test_identity_from_headers_and_from_the_user_field() -> None:
    router = FakeRouter()
    async with start_gateway(router) as gateway:
        client = async_client(gateway)
        await client.chat.completions.create(
            model="m",
            messages=CHAT,
            extra_headers={
                "X-Lexitui-Agent": "researcher",
                "X-Lexitui-Workflow": "wf-7",
                "X-Lexitui-Task": "summarization",
                "X-Lexitui-Strategy": "cloud-only",
            },
        )
        await client.chat.completions.create(
            model="m",
            messages=CHAT,
            user="workflow:wf-9",
        )
        await client.completions.create(model="m", prompt="x", user="writer")
        with pytest.raises(openai.BadRequestError):
            await client.chat.completions.create(
                model="m",
                messages=CHAT,
                extra_headers={"X-Lexitui-Task": "juggling"},
            )
    by_header, by_workflow, by_user = router.requests
    assert (by_header.agent_id, by_header.workflow_id) == ("researcher", "wf-7")
    assert by_header.task is TaskType.SUMMARIZATION
    assert by_header.parameters["strategy"] is RoutingStrategy.CLOUD_ONLY
    assert (by_workflow.agent_id, by_workflow.workflow_id) == (None, "wf-9")
    assert (by_user.agent_id, by_user.workflow_id) == ("writer", None)


async def test_unknown_route_and_wrong_method() -> None:
    async with start_gateway(FakeRouter()) as gateway, httpx.AsyncClient() as http:
        unknown = await http.post(f"{gateway.base_url}/nothing", json={})
        wrong = await http.get(f"{gateway.base_url}/chat/completions")
        not_json = await http.post(f"{gateway.base_url}/chat/completions", content=b"{nope")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "unknown_url"
    assert wrong.status_code == 405
    assert not_json.status_code == 400
    assert not_json.json()["error"]["type"] == "invalid_request_error"


async def test_stopping_the_gateway_closes_streams_in_flight() -> None:
    router = FakeRouter(hang=True)
    async with start_gateway(router) as gateway:
        stream = await async_client(gateway).chat.completions.create(
            model="m", messages=CHAT, stream=True
        )
        await stream.__anext__()
        await gateway.stop()
        assert router.closed.is_set()
        with pytest.raises(openai.APIConnectionError):
            async for _ in stream:
                pass

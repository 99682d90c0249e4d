"""Parsing, validation and formatting of OpenAI bodies, and the error mapping, without HTTP."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import pytest

from lexitui.domain.inference import InvalidRequest
from lexitui.domain.language_model import (
    EmbeddingResponse,
    LanguageModelResponse,
    TaskType,
    TokenUsage,
)
from lexitui.domain.routing import RoutingStrategy
from lexitui.gateway import ApiError, is_loopback
from lexitui.gateway.errors import from_exception
from lexitui.gateway.openai_format import (
    StreamFrames,
    chat_completion,
    embeddings,
    finish_reason,
)
from lexitui.gateway.openai_wire import (
    Identity,
    chat_call,
    completion_call,
    embedding_request,
    identity,
    parse_body,
)
from lexitui.routing.errors import (
    AllProvidersFailed,
    BudgetExceeded,
    FailureKind,
    ProviderError,
    RoutingError,
    UnknownModel,
)

NOBODY = Identity()
USER = [{"role": "user", "content": "hi"}]


def bad(call: Any, *args: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(*args)
    assert caught.value.status == 400
    return caught.value


def test_messages_with_text_parts_and_the_developer_role() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "developer", "content": "rules"},
            {
                "role": "user",
                "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
            },
            {"role": "assistant", "content": None},
        ],
        "max_completion_tokens": 5,
        "stop": "END",
        "frequency_penalty": 0.5,
    }
    call = chat_call(body, NOBODY)
    assert [(m.role, m.content) for m in call.request.messages] == [
        ("system", "rules"),
        ("user", "ab"),
        ("assistant", ""),
    ]
    assert call.request.max_tokens == 5
    assert call.request.stop == ("END",)
    assert call.request.parameters == {"frequency_penalty": 0.5}
    assert call.request.task is TaskType.CHAT
    assert not call.stream


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"messages": []}, "messages"),
        ({"messages": "hi"}, "messages"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": 3}]}, "messages[0].content"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]},
            "messages[0].content[0]",
        ),
        ({"temperature": 2.5}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"top_p": -0.1}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": True}, "max_tokens"),
        ({"max_tokens": 1.5}, "max_tokens"),
        ({"seed": "x"}, "seed"),
        ({"n": 2}, "n"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"stop": [1]}, "stop"),
        ({"stream": "yes"}, "stream"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"stream": True, "stream_options": {"include_usage": 1}}, "stream_options.include_usage"),
        ({"tools": [{"type": "function"}]}, "tools"),
        ({"model": 5}, "model"),
        ({"presence_penalty": 3}, "presence_penalty"),
    ],
)
def test_bad_chat_fields_name_the_param(change: dict[str, Any], param: str) -> None:
    error = bad(chat_call, {"model": "m", "messages": USER, **change}, NOBODY)
    assert error.param == param
    assert error.body()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("extra", "kept"), [({}, None), ({"keep_alive": "10m"}, "10m"), ({"ttl": 30}, 30)]
)
def test_keep_alive_and_ttl_reach_the_request_as_given(extra: dict[str, Any], kept: object) -> None:
    call = chat_call({"model": "m", "messages": USER, **extra}, NOBODY)
    assert call.request.parameters.get("keep_alive") == kept


def test_keep_alive_and_ttl_together_are_refused() -> None:
    error = bad(chat_call, {"model": "m", "messages": USER, "keep_alive": 0, "ttl": 1}, NOBODY)
    assert error.param == "ttl"


def test_stream_options_and_auto_model() -> None:
    body = {
        "model": "auto",
        "messages": USER,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    call = chat_call(body, NOBODY)
    assert (call.stream, call.include_usage, call.request.model) == (True, True, None)


def test_completion_prompt_forms() -> None:
    assert completion_call({"prompt": ["one"]}, NOBODY).request.prompt == "one"
    assert completion_call({"prompt": "p"}, NOBODY).request.task is TaskType.COMPLETION
    assert bad(completion_call, {"prompt": [1, 2]}, NOBODY).param == "prompt"
    assert bad(completion_call, {"prompt": ["a", "b"]}, NOBODY).param == "prompt"
    assert bad(completion_call, {"prompt": "p", "echo": True}, NOBODY).param == "echo"


def test_embedding_input_forms() -> None:
    request, encoding = embedding_request({"input": "x", "model": "e"}, Identity("a", "w"))
    assert (request.texts, request.model, request.agent_id, request.workflow_id) == (
        ("x",),
        "e",
        "a",
        "w",
    )
    assert encoding == "float"
    assert embedding_request({"input": ["a", "b"], "encoding_format": "base64"}, NOBODY)[1] == (
        "base64"
    )
    assert bad(embedding_request, {"input": [1, 2]}, NOBODY).param == "input"
    assert bad(embedding_request, {"input": []}, NOBODY).param == "input"
    assert bad(embedding_request, {"input": [""]}, NOBODY).param == "input"
    assert bad(embedding_request, {"input": "a", "encoding_format": "int8"}, NOBODY).param == (
        "encoding_format"
    )


def test_identity_headers_win_over_the_user_field() -> None:
    assert identity({}, {"user": "agent:bob"}) == Identity(agent_id="bob")
    assert identity({}, {"user": "workflow:w1"}) == Identity(workflow_id="w1")
    assert identity({}, {"user": "plain-name"}) == Identity(agent_id="plain-name")
    assert identity({}, {"user": "team:x"}) == Identity(agent_id="team:x")
    headers = {"x-lexitui-agent": "h", "x-lexitui-task": "Code-Generation"}
    who = identity(headers, {"user": "agent:body"})
    assert (who.agent_id, who.task) == ("h", TaskType.CODE_GENERATION)
    assert identity({}, {"metadata": {"task": "translation"}}).task is TaskType.TRANSLATION
    strategy = identity({"x-lexitui-strategy": "quality_optimized"}, {}).strategy
    assert strategy is RoutingStrategy.QUALITY_OPTIMIZED
    assert bad(identity, {"x-lexitui-task": "nope"}, {}).param == "metadata.task"
    bad(identity, {"x-lexitui-strategy": "fastest"}, {})
    bad(identity, {}, {"user": "x" * 300})
    bad(identity, {}, {"user": 5})


def test_task_and_strategy_reach_the_request() -> None:
    who = Identity(task=TaskType.ANALYSIS, strategy=RoutingStrategy.LOCAL_ONLY)
    request = chat_call({"messages": USER}, who).request
    assert request.task is TaskType.ANALYSIS
    assert request.parameters["strategy"] == "local_only"


@pytest.mark.parametrize("body", [b"", b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_bodies_that_are_not_json_objects(body: bytes) -> None:
    bad(parse_body, body)


def test_chat_completion_shape() -> None:
    response = LanguageModelResponse(
        "hi", "local", "smol", TokenUsage(3, 2), finish_reason="max_tokens"
    )
    shape = chat_completion(response, "chatcmpl-1", 123)
    assert shape["choices"][0] == {
        "index": 0,
        "message": {"role": "assistant", "content": "hi"},
        "logprobs": None,
        "finish_reason": "length",
    }
    assert shape["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    assert (shape["object"], shape["model"], shape["created"]) == ("chat.completion", "smol", 123)


def test_stream_frames() -> None:
    frames = StreamFrames(True, "chatcmpl-1", 9, "m")

    def decode(frame: bytes | None) -> dict[str, Any]:
        assert frame is not None and frame.startswith(b"data: ") and frame.endswith(b"\n\n")
        value: dict[str, Any] = json.loads(frame[6:])
        return value

    assert decode(frames.start())["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert decode(frames.text("a\nb"))["choices"][0]["delta"] == {"content": "a\nb"}
    finish = decode(frames.finish(None))
    assert finish["choices"][0]["finish_reason"] == "stop"
    assert finish["object"] == "chat.completion.chunk"
    usage = decode(frames.usage(TokenUsage(1, 2)))
    assert usage["choices"] == []
    assert usage["usage"]["total_tokens"] == 3
    assert "usage" not in decode(frames.text("x"))
    text = StreamFrames(False, "cmpl-1", 9, "m", include_usage=True)
    assert text.start() is None
    piece = decode(text.text("x"))
    assert (piece["choices"][0]["text"], piece["usage"]) == ("x", None)


def test_base64_embeddings_are_little_endian_float32() -> None:
    shape = embeddings(EmbeddingResponse([[1.0, -2.5]], "local", "e", 4), "base64")
    raw = base64.b64decode(shape["data"][0]["embedding"])
    assert struct.unpack("<2f", raw) == (1.0, -2.5)
    assert shape["usage"] == {"prompt_tokens": 4, "total_tokens": 4}


def test_finish_reasons() -> None:
    assert [finish_reason(r) for r in ("stop", "length", "eos", None, "max_tokens")] == [
        "stop",
        "length",
        "stop",
        "stop",
        "length",
    ]


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ProviderError("p", FailureKind.BAD_REQUEST, "m"), 400, "bad_request"),
        (ProviderError("p", FailureKind.BAD_REQUEST, "m", status=404), 404, "model_not_found"),
        (UnknownModel("m"), 404, "model_not_found"),
        (ProviderError("p", FailureKind.RATE_LIMITED, "m"), 429, "rate_limit_exceeded"),
        (ProviderError("p", FailureKind.QUOTA_EXCEEDED, "m"), 429, "insufficient_quota"),
        (BudgetExceeded("p", "spent"), 429, "insufficient_quota"),
        (ProviderError("p", FailureKind.TIMEOUT, "m"), 504, "timeout"),
        (ProviderError("p", FailureKind.UNAVAILABLE, "m"), 503, "service_unavailable"),
        (ProviderError("p", FailureKind.OVERLOADED, "m"), 503, "overloaded"),
        (ProviderError("p", FailureKind.AUTH, "m"), 502, "upstream_auth_failed"),
        (ProviderError("p", FailureKind.SERVER_ERROR, "m"), 502, "upstream_error"),
        (AllProvidersFailed("all down", []), 503, "all_providers_failed"),
        (RoutingError("no route"), 503, "no_provider"),
        (InvalidRequest("bad"), 400, None),
        (KeyError("bug"), 500, None),
    ],
)
def test_error_mapping(error: Exception, status: int, code: str | None) -> None:
    mapped = from_exception(error)
    assert (mapped.status, mapped.code) == (status, code)
    assert set(mapped.body()["error"]) == {"message", "type", "param", "code"}


def test_retry_after_is_rounded_up() -> None:
    error = ProviderError("p", FailureKind.RATE_LIMITED, "m", retry_after_s=0.2)
    assert ("retry-after", "1") in from_exception(error).headers
    assert from_exception(ProviderError("p", FailureKind.RATE_LIMITED, "m")).headers == []


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.internal", False),
        ("", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback

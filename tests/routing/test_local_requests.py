"""A chat's sampling settings survive the trip through the router: the engine gets the same
request body it got when the chat called it directly."""

from __future__ import annotations

import json

import pytest

from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.domain.inference import (
    InvalidRequest,
    LocalFormatType,
    LocalGenerationRequest,
    LocalResponseFormat,
)
from lexitui.domain.language_model import LanguageModelRequest, Message
from lexitui.routing.local_requests import fit_to_context, routed_request, to_local_request
from lexitui.runtime.request_body import request_body

CHAT = (
    LocalChatMessage(ChatRole.USER, "Name a colour."),
    LocalChatMessage(ChatRole.ASSISTANT, "Blue."),
    LocalChatMessage(ChatRole.USER, "Another?"),
)
EVERY_SAMPLER = LocalGenerationRequest(
    messages=CHAT,
    system_prompt="Be brief.",
    max_tokens=48,
    temperature=0.2,
    top_p=0.8,
    top_k=12,
    repetition_penalty=1.3,
    frequency_penalty=0.4,
    presence_penalty=-0.5,
    stop_sequences=("\n\n", "END"),
    seed=42,
    min_p=0.05,
    typical_p=0.9,
    mirostat=2,
    mirostat_tau=4.0,
    mirostat_eta=0.2,
)
SCHEMA = json.dumps({"type": "object", "properties": {"colour": {"type": "string"}}})


def engine_body(request: LocalGenerationRequest) -> dict[str, object]:
    return request_body(request, "m", stream=True)


@pytest.mark.parametrize(
    "request_",
    [
        EVERY_SAMPLER,
        LocalGenerationRequest(messages=CHAT),  # the chat screen's defaults, none typed in
        LocalGenerationRequest(messages=CHAT, grammar='root ::= "yes" | "no"'),
        LocalGenerationRequest(messages=CHAT, format=LocalResponseFormat(LocalFormatType.JSON)),
        LocalGenerationRequest(
            messages=CHAT, format=LocalResponseFormat(LocalFormatType.JSON_SCHEMA, SCHEMA)
        ),
        LocalGenerationRequest(prompt="Once upon a time", system_prompt="Tell tales."),
    ],
    ids=["every-sampler", "defaults", "grammar", "json", "json-schema", "plain-prompt"],
)
def test_the_engine_gets_the_same_body_through_the_router(
    request_: LocalGenerationRequest,
) -> None:
    routed = routed_request(request_, model="starter")
    assert routed.model == "starter"
    assert engine_body(to_local_request(routed)) == engine_body(request_)


def test_a_json_format_travels_in_openai_shape() -> None:
    schema = LocalResponseFormat(LocalFormatType.JSON_SCHEMA, SCHEMA)
    routed = routed_request(LocalGenerationRequest(messages=CHAT, format=schema))
    sent = routed.parameters["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["schema"] == json.loads(SCHEMA)


def test_unset_samplers_are_the_openai_api_defaults_not_the_chat_screens() -> None:
    assert to_local_request(LanguageModelRequest(prompt="hi")).repetition_penalty == 1.0
    asked = LanguageModelRequest(prompt="hi", parameters={"repeat_penalty": 1.2, "top_k": 5})
    assert (to_local_request(asked).repetition_penalty, to_local_request(asked).top_k) == (1.2, 5)


@pytest.mark.parametrize(
    ("parameters", "said"),
    [
        ({"top_k": "many"}, "top_k must be a number"),
        ({"min_p": 3}, "min-p must be between 0 and 1"),
        ({"grammar": 7}, "grammar must be GBNF text"),
        ({"response_format": {"type": "xml"}}, "unsupported response_format"),
        ({"response_format": {"type": "json_schema"}}, "unsupported response_format"),
    ],
)
def test_a_bad_sampler_is_refused_by_name(parameters: dict[str, object], said: str) -> None:
    asked = LanguageModelRequest(messages=(Message("user", "hi"),), parameters=parameters)
    with pytest.raises(InvalidRequest, match=said):
        to_local_request(asked)


def test_a_chat_asks_for_the_room_its_context_has_left() -> None:
    ask = routed_request(LocalGenerationRequest(messages=CHAT, max_tokens=1500))
    fitted = fit_to_context(ask, 1024)
    assert fitted.max_tokens is not None and 1000 < fitted.max_tokens < 1024
    assert fit_to_context(ask, 4096) == ask, "it fits: asked as it is"
    assert fit_to_context(ask, None) == ask, "context unknown: asked as it is"
    unbounded = routed_request(LocalGenerationRequest(messages=CHAT))
    assert fit_to_context(unbounded, 100).max_tokens == fitted.max_tokens - 924
    assert fit_to_context(ask, 10) == ask, "no room at all: the router says it does not fit"

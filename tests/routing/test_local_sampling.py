"""A request's sampler parameters and response format reach the local engine's request."""

from __future__ import annotations

import json

import pytest

from lexitui.domain.inference import InvalidRequest, LocalFormatType
from lexitui.domain.language_model import LanguageModelRequest, Message
from lexitui.routing.local_requests import to_local_request
from lexitui.runtime.request_body import sampling_fields


def local(**parameters: object) -> object:
    request = LanguageModelRequest(messages=(Message("user", "hi"),), parameters=parameters)
    return to_local_request(request)


def test_sampler_parameters_reach_the_engine_body() -> None:
    request = to_local_request(
        LanguageModelRequest(
            messages=(Message("user", "hi"),),
            parameters={"top_k": 7, "repeat_penalty": 1.3, "min_p": 0.1, "keep_alive": "5m"},
        )
    )
    fields = sampling_fields(request)
    assert fields["top_k"] == 7 and fields["repeat_penalty"] == 1.3 and fields["min_p"] == 0.1


def test_json_response_formats_constrain_the_output() -> None:
    json_mode = to_local_request(
        LanguageModelRequest(
            messages=(Message("user", "hi"),),
            parameters={"response_format": {"type": "json_object"}},
        )
    )
    assert json_mode.format is not None and json_mode.format.type is LocalFormatType.JSON
    assert sampling_fields(json_mode)["response_format"] == {"type": "json_object"}
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    spec = {"type": "json_schema", "json_schema": {"name": "r", "schema": schema}}
    schema_mode = to_local_request(
        LanguageModelRequest(
            messages=(Message("user", "hi"),), parameters={"response_format": spec}
        )
    )
    assert schema_mode.format is not None
    assert json.loads(schema_mode.format.schema or "") == schema


def test_bad_values_are_refused_before_the_engine() -> None:
    with pytest.raises(InvalidRequest):
        local(top_k="many")
    with pytest.raises(InvalidRequest):
        local(response_format={"type": "xml"})

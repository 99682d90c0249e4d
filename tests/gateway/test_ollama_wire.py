"""Ollama request bodies become the router's requests: options, format, images and keep_alive
reach the fields and parameters the providers read; bad bodies are one 400 naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from lexitui.domain.language_model import Message, TaskType
from lexitui.gateway.errors import ApiError
from lexitui.gateway.ollama_wire import (
    chat_call,
    embed_request,
    embeddings_request,
    generate_call,
    keep_alive_seconds,
)

MODEL = "smollm2:latest"
ASK = [{"role": "user", "content": "hi"}]


def chat(**fields: Any) -> Any:
    return chat_call({"model": MODEL, "messages": ASK, **fields})


def test_keep_alive_reaches_the_parameters_raw() -> None:
    for raw in ("10m", 0, -1, "3600"):
        call = chat(keep_alive=raw)
        assert call.request is not None
        assert call.request.parameters["keep_alive"] == raw
    call = generate_call({"model": MODEL, "prompt": "hi", "keep_alive": "30s"})
    assert call.request is not None and call.request.parameters["keep_alive"] == "30s"
    assert "keep_alive" not in (chat().request.parameters if chat().request else {})


def test_keep_alive_durations_read_as_ollama_reads_them() -> None:
    assert keep_alive_seconds("5m") == 300
    assert keep_alive_seconds("1h30m") == 5400
    assert keep_alive_seconds("1.5s") == 1.5
    assert keep_alive_seconds("-1") == -1
    assert keep_alive_seconds("-1m") == -1  # any negative duration: loaded for ever
    assert keep_alive_seconds(0) == 0
    assert keep_alive_seconds("0") == 0
    assert keep_alive_seconds(None) is None
    for bad in ("soon", "5 minutes", "5m!", True, [1]):
        with pytest.raises(ApiError) as refused:
            keep_alive_seconds(bad)
        assert refused.value.status == 400


def test_images_on_messages_pass_through_to_the_request() -> None:
    call = chat(messages=[{"role": "user", "content": "what is this?", "images": ["aGk=", "eW8="]}])
    assert call.request is not None
    assert call.request.messages == (Message("user", "what is this?", ("aGk=", "eW8=")),)
    generated = generate_call({"model": MODEL, "prompt": "describe", "images": ["aGk="]})
    assert generated.request is not None
    assert generated.request.messages[-1].images == ("aGk=",)
    with pytest.raises(ApiError, match="base64"):
        chat(messages=[{"role": "user", "content": "x", "images": [1]}])


def test_options_map_to_typed_fields_and_sampler_parameters() -> None:
    options = {
        "temperature": 0.2,
        "top_p": 0.5,
        "top_k": 7,
        "seed": 42,
        "num_predict": 12,
        "stop": ["\n\n"],
        "repeat_penalty": 1.2,
        "min_p": 0.05,
        "num_ctx": 8192,  # a load option: not a per-request parameter
        "num_gpu": 1,
    }
    request = chat(options=options).request
    assert request is not None
    assert (request.temperature, request.top_p, request.seed) == (0.2, 0.5, 42)
    assert request.max_tokens == 12 and request.stop == ("\n\n",)
    assert request.parameters == {"top_k": 7, "repeat_penalty": 1.2, "min_p": 0.05}
    unlimited = chat(options={"num_predict": -1}).request
    assert unlimited is not None and unlimited.max_tokens is None
    with pytest.raises(ApiError, match=r"options\.temperature"):
        chat(options={"temperature": "hot"})


def test_format_becomes_the_response_format_parameter() -> None:
    json_mode = chat(format="json").request
    assert json_mode is not None
    assert json_mode.parameters["response_format"] == {"type": "json_object"}
    schema = {"type": "object", "properties": {"age": {"type": "integer"}}}
    schema_mode = chat(format=schema).request
    assert schema_mode is not None
    assert schema_mode.parameters["response_format"]["json_schema"]["schema"] == schema
    plain = chat(format="").request
    assert plain is not None and "response_format" not in plain.parameters
    with pytest.raises(ApiError, match="format"):
        chat(format="yaml")


def test_stream_is_on_unless_false() -> None:
    assert chat().stream is True
    assert chat(stream=False).stream is False


def test_no_messages_or_no_prompt_loads_and_keep_alive_zero_unloads() -> None:
    load = chat_call({"model": MODEL})
    assert load.request is None and not load.unloads
    assert chat_call({"model": MODEL, "messages": []}).request is None
    unload = generate_call({"model": MODEL, "keep_alive": 0})
    assert unload.request is None and unload.unloads and not unload.chat
    assert generate_call({"model": MODEL, "prompt": "", "keep_alive": "0s"}).unloads


def test_generate_applies_the_template_unless_raw() -> None:
    templated = generate_call({"model": MODEL, "prompt": "hi", "system": "be brief"}).request
    assert templated is not None and templated.task is TaskType.COMPLETION
    assert templated.messages == (Message("system", "be brief"), Message("user", "hi"))
    raw = generate_call({"model": MODEL, "prompt": "hi", "raw": True}).request
    assert raw is not None and raw.prompt == "hi" and not raw.messages


def test_bad_requests_name_the_problem() -> None:
    with pytest.raises(ApiError, match="model is required") as missing:
        chat_call({"messages": ASK})
    assert missing.value.status == 400
    with pytest.raises(ApiError, match="tools"):
        chat(tools=[{"type": "function", "function": {"name": "f"}}])
    with pytest.raises(ApiError, match="role"):
        chat(messages=[{"role": "robot", "content": "x"}])
    with pytest.raises(ApiError, match="suffix"):
        generate_call({"model": MODEL, "prompt": "x", "suffix": "y"})


def test_embed_inputs() -> None:
    model, request = embed_request({"model": MODEL, "input": ["a", "b"]})
    assert model == MODEL and request is not None and request.texts == ("a", "b")
    assert embed_request({"model": MODEL, "input": "a"})[1] is not None
    assert embed_request({"model": MODEL})[1] is None  # loads only
    assert embeddings_request({"model": MODEL, "prompt": "a"})[1] is not None
    assert embeddings_request({"model": MODEL, "prompt": ""})[1] is None
    with pytest.raises(ApiError, match="input"):
        embed_request({"model": MODEL, "input": [1]})

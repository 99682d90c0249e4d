"""Turns a ``LocalGenerationRequest`` into the JSON body llama.cpp's OpenAI-compatible endpoints
take, and reads the figures it reports back.

Chat messages go to ``/v1/chat/completions`` (the model's chat template applies); a bare prompt
goes to ``/v1/completions`` (no template). llama.cpp accepts its own sampler fields (``top_k``,
``min_p``, ``typical_p``, ``repeat_penalty``, ``mirostat*``, ``grammar``) beside the OpenAI ones.
"""

from __future__ import annotations

import json
from typing import Any

from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.domain.inference import LocalFormatType, LocalGenerationRequest

CHAT_PATH = "/v1/chat/completions"
COMPLETION_PATH = "/v1/completions"


def endpoint_path(request: LocalGenerationRequest) -> str:
    return CHAT_PATH if request.messages else COMPLETION_PATH


def request_body(request: LocalGenerationRequest, model: str, *, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "stream": stream}
    if request.messages:
        body["messages"] = [m.as_json() for m in with_system_prompt(request)]
    else:
        prompt = request.prompt or ""
        body["prompt"] = f"{request.system_prompt}\n\n{prompt}" if request.system_prompt else prompt
    if stream:
        body["stream_options"] = {"include_usage": True}
    body.update(sampling_fields(request))
    return body


def with_system_prompt(request: LocalGenerationRequest) -> tuple[LocalChatMessage, ...]:
    """The messages, led by the system prompt unless they already start with one."""
    messages = request.messages or ()
    if not request.system_prompt or (messages and messages[0].role is ChatRole.SYSTEM):
        return messages
    return (LocalChatMessage(ChatRole.SYSTEM, request.system_prompt), *messages)


def sampling_fields(request: LocalGenerationRequest) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "temperature": request.temperature,
        "top_p": request.top_p,
        "repeat_penalty": request.repetition_penalty,
        "frequency_penalty": request.frequency_penalty,
        "presence_penalty": request.presence_penalty,
    }
    optional = {
        "max_tokens": request.max_tokens,
        "top_k": request.top_k,
        "min_p": request.min_p,
        "typical_p": request.typical_p,
        "seed": request.seed,
        "mirostat": request.mirostat,
        "mirostat_tau": request.mirostat_tau,
        "mirostat_eta": request.mirostat_eta,
        "grammar": request.grammar,
    }
    fields.update({k: v for k, v in optional.items() if v is not None})
    if request.stop_sequences:
        fields["stop"] = list(request.stop_sequences)
    if request.format is not None and request.format.type is LocalFormatType.JSON:
        fields["response_format"] = {"type": "json_object"}
    elif request.format is not None and request.format.type is LocalFormatType.JSON_SCHEMA:
        schema = json.loads(request.format.schema or "{}")
        fields["response_format"] = {"type": "json_schema", "json_schema": {"schema": schema}}
    return fields


def delta_text(choice: dict[str, Any]) -> str:
    """The new text in one streamed choice, chat (``delta.content``) or completion (``text``)."""
    delta = choice.get("delta")
    if isinstance(delta, dict):
        return str(delta.get("content") or "")
    return str(choice.get("text") or "")

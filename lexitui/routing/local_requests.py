"""Between the local engine's requests and the router's: the same sampling, both ways.

The chat screen and ``lexitui run`` build a ``LocalGenerationRequest`` (every llama.cpp sampler
a user can set) and send it through the router as a ``LanguageModelRequest``; the local provider
turns it back into the engine's request (``local_sampling``). The samplers OpenAI's API lacks
travel in ``parameters`` under the names llama.cpp and Ollama give them (``top_k``, ``min_p``,
``typical_p``, ``repeat_penalty``, ``mirostat``, ``mirostat_tau``, ``mirostat_eta``,
``grammar``) and a JSON format as OpenAI's ``response_format``, so it reaches a cloud provider
as well; the others stay lexitui's own (a cloud provider only sends the ones its API names).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.domain.inference import InvalidRequest, LocalFormatType, LocalGenerationRequest
from lexitui.domain.language_model import LanguageModelRequest, Message, TaskType
from lexitui.routing.local_sampling import local_sampling
from lexitui.routing.tokens import estimate_tokens
from lexitui.runtime.request_body import with_system_prompt

if TYPE_CHECKING:
    from lexitui.runtime.manager import InferenceManager

# The engine's own samplers beside OpenAI's typed fields: field -> the name it travels under
# (``local_sampling`` reads them back; llama.cpp's and Ollama's spelling).
TRAVELLING = {
    "top_k": "top_k",
    "min_p": "min_p",
    "typical_p": "typical_p",
    "repetition_penalty": "repeat_penalty",
    "mirostat": "mirostat",
    "mirostat_tau": "mirostat_tau",
    "mirostat_eta": "mirostat_eta",
    "grammar": "grammar",
}


def routed_request(
    request: LocalGenerationRequest, *, model: str | None = None, task: TaskType = TaskType.CHAT
) -> LanguageModelRequest:
    """``request`` as the router takes it, every sampler kept: the system prompt leads the
    messages, as the engine would have put it."""
    chat = with_system_prompt(request) if request.messages else ()
    messages = tuple(Message(m.role.value, m.content, tuple(m.images or ())) for m in chat)
    prompt = request.prompt
    if not messages and request.system_prompt and prompt is not None:
        prompt = f"{request.system_prompt}\n\n{prompt}"
    return LanguageModelRequest(
        messages=messages,
        prompt=None if messages else prompt,
        model=model,
        max_tokens=request.max_tokens,
        temperature=request.temperature,
        top_p=request.top_p,
        stop=request.stop_sequences,
        seed=request.seed,
        task=task,
        parameters=sampling_parameters(request),
    )


def sampling_parameters(request: LocalGenerationRequest) -> dict[str, Any]:
    """The samplers of ``request`` beyond OpenAI's typed fields, by their travelling names."""
    params: dict[str, Any] = {
        "frequency_penalty": request.frequency_penalty,
        "presence_penalty": request.presence_penalty,
    }
    for field, name in TRAVELLING.items():
        value = getattr(request, field)
        if value is not None:
            params[name] = value
    fmt = request.format
    if fmt is not None and fmt.type is LocalFormatType.JSON:
        params["response_format"] = {"type": "json_object"}
    elif fmt is not None and fmt.type is LocalFormatType.JSON_SCHEMA:
        schema = json.loads(fmt.schema or "{}")
        params["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": schema},
        }
    return params


def loaded_model_request(
    local: LocalGenerationRequest, runtime: InferenceManager
) -> LanguageModelRequest:
    """A chat's request for the model loaded now (the active one), named so the router sends it
    to that very load; with none loaded (never, or its engine died), the router's choice."""
    active = runtime.active_model
    if active is None:
        return routed_request(local)
    loads = [m for m in runtime.loaded_models() if m.model.id == active.model.id]
    # The model id names one load; with several loads of it, the load id says which.
    model = active.model.id if len(loads) == 1 else f"local:{active.id}"
    return fit_to_context(routed_request(local, model=model), active.resources.context_size)


def fit_to_context(request: LanguageModelRequest, context: int | None) -> LanguageModelRequest:
    """A chat asks its loaded model for up to ``max_tokens``, or until the context is full: when
    the answer's room is smaller, ``max_tokens`` becomes that room, so the router's context
    check lets it through (and the engine stops where it would have). A prompt that leaves no
    room is left as it is: the router then says it does not fit."""
    if not context:
        return request
    prompt, answer = estimate_tokens(request)
    room = context - prompt
    if prompt + answer <= context or room < 1:
        return request
    return replace(request, max_tokens=room)


def to_local_request(request: LanguageModelRequest) -> LocalGenerationRequest:
    """What a provider request means for the local engine. Unset samplers take the OpenAI API's
    defaults (temperature 1, top-p 1, no penalties), not the chat screen's, so a client of the
    gateway gets from the local model what it would ask of any OpenAI-compatible server."""
    messages = tuple(
        LocalChatMessage(_role(m.role), m.content, m.images or None) for m in request.messages
    )
    params = request.parameters
    local = LocalGenerationRequest(
        prompt=request.prompt if not messages else None,
        messages=messages or None,
        max_tokens=request.max_tokens,
        stop_sequences=request.stop,
        seed=request.seed,
        temperature=1.0 if request.temperature is None else request.temperature,
        top_p=1.0 if request.top_p is None else request.top_p,
        repetition_penalty=1.0,
        frequency_penalty=_number(params.get("frequency_penalty"), 0.0),
        presence_penalty=_number(params.get("presence_penalty"), 0.0),
    )
    local = replace(local, **local_sampling(params))  # top_k, repeat_penalty, JSON output...
    local.validate()
    return local


def _number(value: object, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(f"expected a number, not {value!r}")
    return float(value)


def _role(role: str) -> ChatRole:
    try:
        return ChatRole(role)
    except ValueError:
        raise InvalidRequest(f"unknown message role {role!r}") from None

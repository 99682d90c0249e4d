"""Ollama request bodies in, the router's requests out: parsing and validation.

Follows Ollama's published API: ``/api/chat`` (``messages`` with ``images``), ``/api/generate``
(``prompt``, ``system``, ``raw``, ``images``), ``/api/embed`` and the older ``/api/embeddings``.
``options`` carries the sampler settings (``num_predict`` is the token limit); load-time options
(``num_ctx``, ``num_gpu``, ``num_thread``...) are set when a model loads, not per request, so
they are ignored here as Ollama ignores them for a model already loaded. ``format`` (``"json"``
or a JSON schema) becomes the same ``response_format`` parameter OpenAI clients send.
``keep_alive`` travels raw in ``parameters["keep_alive"]`` for the runtime to honour.

A chat with no messages, or a generate with no prompt, is Ollama's way to load a model (and,
with ``keep_alive: 0``, to unload it): ``OllamaCall.request`` is None then.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lexitui.domain.inference import InvalidRequest
from lexitui.domain.language_model import (
    EmbeddingRequest,
    LanguageModelRequest,
    Message,
    TaskType,
)
from lexitui.gateway.errors import invalid
from lexitui.gateway.openai_wire import MAX_ID_LENGTH
from lexitui.runtime.keep_alive import parse_keep_alive

ROLES = ("system", "user", "assistant")
# Ollama options the local engine takes per request, beside the typed fields.
SAMPLER_OPTIONS = {
    "top_k": int,
    "min_p": float,
    "typical_p": float,
    "repeat_penalty": float,
    "repeat_last_n": int,
    "presence_penalty": float,
    "frequency_penalty": float,
    "mirostat": int,
    "mirostat_tau": float,
    "mirostat_eta": float,
}
# Go's time.ParseDuration units, which Ollama's keep_alive strings use ("5m", "1h30m", "10s").


@dataclass(frozen=True)
class OllamaCall:
    """One ``/api/chat`` or ``/api/generate`` request; ``request`` None loads or unloads."""

    model: str  # as the client named it; answers echo it back
    request: LanguageModelRequest | None
    stream: bool = True
    keep_alive_s: float | None = None  # None: not given; negative: keep loaded for ever
    chat: bool = True
    keep_alive: object = None  # as the client sent it, for a load's own keep-alive

    @property
    def unloads(self) -> bool:
        return self.request is None and self.keep_alive_s == 0


def model_name(body: Mapping[str, Any]) -> str:
    """The required ``model`` (Ollama also accepts the older ``name``)."""
    model = body.get("model") or body.get("name")
    if not isinstance(model, str) or not model.strip():
        raise invalid("model is required", "model")
    if len(model) > MAX_ID_LENGTH:
        raise invalid(f"model names are at most {MAX_ID_LENGTH} characters", "model")
    return model.strip()


def keep_alive_seconds(raw: object) -> float | None:
    """Ollama's ``keep_alive`` in seconds (negative: keep loaded for ever); None when absent. The
    runtime's own reading (``parse_keep_alive``), so both sides accept the same forms."""
    if raw is None:
        return None
    try:
        seconds = parse_keep_alive(raw)
    except InvalidRequest as exc:
        raise invalid(str(exc), "keep_alive") from exc
    return -1.0 if seconds is None else seconds


def chat_call(body: Mapping[str, Any]) -> OllamaCall:
    model = model_name(body)
    raw = body.get("messages")
    if raw is not None and not isinstance(raw, list):
        raise invalid("messages must be an array of messages", "messages")
    if body.get("tools"):
        raise invalid("tools are not supported by this server", "tools")
    messages = tuple(_message(m, f"messages[{i}]") for i, m in enumerate(raw or []))
    request = _request(body, model, messages=messages) if messages else None
    return _call(body, model, request, chat=True)


def generate_call(body: Mapping[str, Any]) -> OllamaCall:
    model = model_name(body)
    prompt = _optional(body, "prompt", str) or ""
    system = _optional(body, "system", str)
    images = _images(body.get("images"), "images")
    if _optional(body, "suffix", str):
        raise invalid("suffix (fill-in-the-middle) is not supported by this server", "suffix")
    if _optional(body, "template", str):
        raise invalid("a per-request template is not supported by this server", "template")
    if not prompt and not images:
        return _call(body, model, None, chat=False)
    if _optional(body, "raw", bool):
        if images:
            raise invalid("images need the model's template: send them without raw", "images")
        # raw: the prompt goes to the model as written, no chat template.
        request = _request(body, model, prompt=prompt, task=TaskType.COMPLETION)
    else:
        # Ollama applies the model's template to a generate prompt, as for a chat turn.
        turns = [Message("system", system)] if system else []
        turns.append(Message("user", prompt, images))
        request = _request(body, model, messages=tuple(turns), task=TaskType.COMPLETION)
    return _call(body, model, request, chat=False)


def embed_request(body: Mapping[str, Any]) -> tuple[str, EmbeddingRequest | None]:
    """``/api/embed``: ``input`` a string or strings; empty input only loads the model."""
    model = model_name(body)
    keep_alive_seconds(body.get("keep_alive"))  # checked; embeddings carry no parameters
    _check_dimensions(body)
    raw = body.get("input")
    texts = [raw] if isinstance(raw, str) else raw
    if texts is None:
        texts = []
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise invalid("input must be a string or an array of strings", "input")
    texts = [t for t in texts if t]
    if not texts:
        return model, None
    return model, EmbeddingRequest(texts=tuple(texts), model=model)


def embeddings_request(body: Mapping[str, Any]) -> tuple[str, EmbeddingRequest | None]:
    """The older ``/api/embeddings``: one ``prompt``; an empty one answers an empty vector."""
    model = model_name(body)
    keep_alive_seconds(body.get("keep_alive"))
    prompt = _optional(body, "prompt", str)
    if not prompt:
        return model, None
    return model, EmbeddingRequest(texts=(prompt,), model=model)


def _call(
    body: Mapping[str, Any], model: str, request: LanguageModelRequest | None, *, chat: bool
) -> OllamaCall:
    stream = _optional(body, "stream", bool)
    raw = body.get("keep_alive")
    seconds = keep_alive_seconds(raw)
    return OllamaCall(model, request, True if stream is None else stream, seconds, chat, raw)


def _request(
    body: Mapping[str, Any],
    model: str,
    *,
    messages: tuple[Message, ...] = (),
    prompt: str | None = None,
    task: TaskType = TaskType.CHAT,
) -> LanguageModelRequest:
    options = _optional(body, "options", dict) or {}
    parameters: dict[str, Any] = {}
    for name, kind in SAMPLER_OPTIONS.items():
        value = _option_number(options, name, kind)
        if value is not None:
            parameters[name] = value
    response_format = _format(body.get("format"))
    if response_format is not None:
        parameters["response_format"] = response_format
    if body.get("keep_alive") is not None:
        parameters["keep_alive"] = body["keep_alive"]  # raw, as sent: the runtime reads it
    max_tokens = _option_number(options, "num_predict", int)
    temperature = _option_number(options, "temperature", float)
    top_p = _option_number(options, "top_p", float)
    if top_p is not None and not 0 <= top_p <= 1:
        raise invalid("options.top_p must be between 0 and 1", "options.top_p")
    if temperature is not None and temperature < 0:
        raise invalid("options.temperature must be 0 or more", "options.temperature")
    return LanguageModelRequest(
        messages=messages,
        prompt=prompt,
        model=model,
        # num_predict -1 (no limit) and -2 (fill the context) both mean: no token limit here.
        max_tokens=max_tokens if max_tokens is not None and max_tokens > 0 else None,
        temperature=temperature,
        top_p=top_p,
        stop=_stop(options.get("stop")),
        seed=_option_number(options, "seed", int),
        task=task,
        parameters=parameters,
    )


def _message(raw: object, where: str) -> Message:
    if not isinstance(raw, dict):
        raise invalid(f"{where} must be an object with role and content", where)
    role = raw.get("role")
    if role == "tool" or raw.get("tool_calls"):
        raise invalid("tool messages are not supported by this server", f"{where}.role")
    if role not in ROLES:
        raise invalid(f"{where}.role must be one of {', '.join(ROLES)}", f"{where}.role")
    content = raw.get("content")
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise invalid(f"{where}.content must be a string", f"{where}.content")
    return Message(str(role), content, _images(raw.get("images"), f"{where}.images"))


def _images(raw: object, where: str) -> tuple[str, ...]:
    """Base64 images, kept as sent: a provider that cannot read them refuses the request."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(i, str) and i for i in raw):
        raise invalid(f"{where} must be an array of base64-encoded images", where)
    return tuple(raw)


def _format(raw: object) -> dict[str, Any] | None:
    """Ollama's ``format`` as OpenAI's ``response_format`` (what the providers read)."""
    if raw is None or raw == "":
        return None
    if raw == "json":
        return {"type": "json_object"}
    if isinstance(raw, dict):
        return {"type": "json_schema", "json_schema": {"name": "response", "schema": raw}}
    raise invalid('format must be "json" or a JSON schema object', "format")


def _stop(raw: object) -> tuple[str, ...] | None:
    if raw is None:
        return None
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise invalid("options.stop must be an array of non-empty strings", "options.stop")
    return tuple(values) or None


def _check_dimensions(body: Mapping[str, Any]) -> None:
    if body.get("dimensions") is not None:
        raise invalid("dimensions is not supported by this server", "dimensions")


def _optional(body: Mapping[str, Any], name: str, kind: type[Any]) -> Any:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        kind_name = {str: "a string", bool: "a boolean", dict: "an object"}.get(kind, str(kind))
        raise invalid(f"{name} must be {kind_name}", name)
    return value


def _option_number(options: Mapping[str, Any], name: str, kind: type[Any]) -> Any:
    value = options.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(f"options.{name} must be a number", f"options.{name}")
    if not math.isfinite(value):
        raise invalid(f"options.{name} must be a finite number", f"options.{name}")
    if kind is int:
        if value != int(value):
            raise invalid(f"options.{name} must be a whole number", f"options.{name}")
        return int(value)
    return float(value)

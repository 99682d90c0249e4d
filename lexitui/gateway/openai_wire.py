"""OpenAI request bodies in, the router's requests out: parsing and validation.

Every field is type- and range-checked here, so a bad request is a 400 naming the field
(``param``) before the router, a model load or a cloud call happens. Fields the gateway does not
implement and that would change the answer (``n`` > 1, tools, token-id prompts) are refused
rather than silently ignored; harmless ones (``logprobs: false``, ``response_format`` text) are
ignored the way other OpenAI-compatible servers do.

Who is asking travels beside the OpenAI fields: ``X-Lexitui-Agent`` / ``X-Lexitui-Workflow``
headers or the ``user`` field (``agent:NAME``, ``workflow:ID``, or a plain name for an agent),
``X-Lexitui-Task`` (or ``metadata.task``) and ``X-Lexitui-Strategy``; the router applies the
matching orchestration overrides.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lexitui.domain.language_model import (
    EmbeddingRequest,
    LanguageModelRequest,
    Message,
    TaskType,
)
from lexitui.domain.routing import RoutingStrategy
from lexitui.gateway.errors import ApiError, invalid

AGENT_HEADER = "x-lexitui-agent"
WORKFLOW_HEADER = "x-lexitui-workflow"
TASK_HEADER = "x-lexitui-task"
STRATEGY_HEADER = "x-lexitui-strategy"

MAX_ID_LENGTH = 256  # agent and workflow ids end up in stored rows and logs
MAX_STOP = 4  # OpenAI's own limit on stop sequences
# Real requests nest a few levels (messages -> parts -> fields); a bound keeps recursive code
# further down (the JSON encoder, the stored rows) away from Python's recursion limit.
MAX_NESTING = 64
ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


@dataclass(frozen=True)
class Identity:
    """Who sent a request and how they want it routed, from headers and body."""

    agent_id: str | None = None
    workflow_id: str | None = None
    task: TaskType | None = None
    strategy: RoutingStrategy | None = None


@dataclass(frozen=True)
class GenerationCall:
    """A chat or completion request, with how the answer should be sent back."""

    request: LanguageModelRequest
    stream: bool = False
    include_usage: bool = False


def parse_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise invalid("The request body is empty; send a JSON object.")
    try:
        value = json.loads(body)
    except RecursionError:
        raise invalid(_TOO_DEEP, code="nesting_too_deep") from None
    except (ValueError, UnicodeDecodeError) as exc:
        # The decoder's message says where (line, column) without echoing the body.
        raise invalid(f"The request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise invalid("The request body must be a JSON object.")
    _check_text_and_depth(value)
    return value


_TOO_DEEP = f"The request body nests arrays or objects more than {MAX_NESTING} levels deep."


def _check_text_and_depth(value: Any) -> None:
    """Refuse what JSON allows but nothing downstream can carry: nesting past ``MAX_NESTING``
    and lone UTF-16 surrogates (``"\\ud800"`` decodes to a string no UTF-8 encoder accepts,
    so it would fail later, in the engine call or the stored row, as a server error)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict | list):
            if depth > MAX_NESTING:
                raise invalid(_TOO_DEEP, code="nesting_too_deep")
            if isinstance(item, dict):
                for key in item:
                    _check_text(key)
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise invalid(
            f"The request body holds an unpaired UTF-16 surrogate (\\u{ord(text[exc.start]):04x})"
            " that is not valid Unicode text.",
            code="invalid_unicode",
        ) from None


def identity(headers: Mapping[str, str], body: Mapping[str, Any]) -> Identity:
    """Headers win over the body: a proxy in front of an unmodified client can set them."""
    agent = headers.get(AGENT_HEADER) or None
    workflow = headers.get(WORKFLOW_HEADER) or None
    user = _optional(body, "user", str)
    if user:
        kind, sep, name = user.partition(":")
        if sep and kind == "workflow":
            workflow = workflow or name or None
        elif sep and kind == "agent":
            agent = agent or name or None
        else:
            agent = agent or user
    for value, param in ((agent, "user"), (workflow, "user")):
        if value is not None and len(value) > MAX_ID_LENGTH:
            raise invalid(f"Agent and workflow ids are at most {MAX_ID_LENGTH} characters.", param)
    metadata = _optional(body, "metadata", dict) or {}
    raw_task = headers.get(TASK_HEADER) or metadata.get("task")
    task = None
    if raw_task is not None:
        try:
            task = TaskType(str(raw_task).strip().lower().replace("-", "_"))
        except ValueError:
            names = ", ".join(t.value for t in TaskType)
            raise invalid(f"Unknown task {raw_task!r}; one of {names}.", "metadata.task") from None
    raw_strategy = headers.get(STRATEGY_HEADER)
    strategy = None
    if raw_strategy is not None:
        try:
            strategy = RoutingStrategy(raw_strategy.strip().lower().replace("-", "_"))
        except ValueError:
            names = ", ".join(s.value for s in RoutingStrategy)
            raise invalid(f"Unknown routing strategy {raw_strategy!r}; one of {names}.") from None
    return Identity(agent, workflow, task, strategy)


def chat_call(body: Mapping[str, Any], who: Identity) -> GenerationCall:
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise invalid("'messages' must be a non-empty array of messages.", "messages")
    messages = tuple(_message(m, f"messages[{i}]") for i, m in enumerate(raw))
    if body.get("tools") or body.get("functions"):
        raise invalid("Tool and function calling are not supported by this gateway.", "tools")
    max_tokens = _optional_int(body, "max_completion_tokens", 1)
    if max_tokens is None:
        max_tokens = _optional_int(body, "max_tokens", 1)
    return _call(body, who, TaskType.CHAT, max_tokens, messages=messages)


def completion_call(body: Mapping[str, Any], who: Identity) -> GenerationCall:
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise invalid("'prompt' must be a string (or an array of one string).", "prompt")
    if body.get("echo"):
        raise invalid("'echo' is not supported by this gateway.", "echo")
    if body.get("suffix"):
        raise invalid("'suffix' is not supported by this gateway.", "suffix")
    max_tokens = _optional_int(body, "max_tokens", 1)
    return _call(body, who, TaskType.COMPLETION, max_tokens, prompt=prompt)


def embedding_request(body: Mapping[str, Any], who: Identity) -> tuple[EmbeddingRequest, str]:
    """The request and the ``encoding_format`` (``float`` or ``base64``) of the answer."""
    raw = body.get("input")
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise invalid("'input' must be a string or a non-empty array of strings.", "input")
    if any(not t for t in texts):
        raise invalid("'input' must not contain empty strings.", "input")
    encoding = _optional(body, "encoding_format", str) or "float"
    if encoding not in ("float", "base64"):
        raise invalid("'encoding_format' must be 'float' or 'base64'.", "encoding_format")
    if body.get("dimensions") is not None:
        raise invalid("'dimensions' is not supported by this gateway.", "dimensions")
    request = EmbeddingRequest(
        texts=tuple(texts),
        model=_model(body),
        agent_id=who.agent_id,
        workflow_id=who.workflow_id,
    )
    return request, encoding


def _call(
    body: Mapping[str, Any],
    who: Identity,
    default_task: TaskType,
    max_tokens: int | None,
    *,
    messages: tuple[Message, ...] = (),
    prompt: str | None = None,
) -> GenerationCall:
    n = _optional_int(body, "n", 1)
    if n is not None and n != 1:
        raise invalid("Only n=1 is supported by this gateway.", "n")
    stream = _optional(body, "stream", bool) or False
    options = _optional(body, "stream_options", dict)
    if options is not None and not stream:
        raise invalid("'stream_options' is only allowed when 'stream' is true.", "stream_options")
    include_usage = (options or {}).get("include_usage", False)
    if not isinstance(include_usage, bool):
        raise invalid("'include_usage' must be a boolean.", "stream_options.include_usage")
    parameters: dict[str, Any] = {}
    for name in ("frequency_penalty", "presence_penalty"):
        value = _optional_number(body, name, -2.0, 2.0)
        if value is not None:
            parameters[name] = value
    if who.strategy is not None:
        parameters["strategy"] = who.strategy
    keep_alive = _keep_alive(body)
    if keep_alive is not None:
        parameters["keep_alive"] = keep_alive
    request = LanguageModelRequest(
        messages=messages,
        prompt=prompt,
        model=_model(body),
        max_tokens=max_tokens,
        temperature=_optional_number(body, "temperature", 0.0, 2.0),
        top_p=_optional_number(body, "top_p", 0.0, 1.0),
        stop=_stop(body.get("stop")),
        seed=_optional_int(body, "seed", None),
        task=who.task or default_task,
        agent_id=who.agent_id,
        workflow_id=who.workflow_id,
        parameters=parameters,
    )
    return GenerationCall(request, stream, include_usage)


def _message(raw: object, where: str) -> Message:
    if not isinstance(raw, dict):
        raise invalid(f"'{where}' must be an object with 'role' and 'content'.", where)
    role = raw.get("role")
    if not isinstance(role, str) or role not in ROLES:
        names = ", ".join(ROLES)
        raise invalid(f"'{where}.role' must be one of {names}.", f"{where}.role")
    content = raw.get("content")
    if content is None and role == "assistant":
        content = ""  # an assistant turn that only carried tool calls elsewhere
    return Message(ROLES[role], _content(content, f"{where}.content"))


def _content(content: object, where: str) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise invalid(f"'{where}' must be a string or an array of text parts.", where)
    texts: list[str] = []
    for i, part in enumerate(content):
        here = f"{where}[{i}]"
        if not isinstance(part, dict) or part.get("type") != "text":
            raise invalid(f"'{here}' must be a text part; only text input is supported.", here)
        text = part.get("text")
        if not isinstance(text, str):
            raise invalid(f"'{here}.text' must be a string.", f"{here}.text")
        texts.append(text)
    return "".join(texts)


def _keep_alive(body: Mapping[str, Any]) -> object:
    """How long the model stays loaded after this request: Ollama's ``keep_alive`` ("5m",
    seconds, 0, negative) or LM Studio's ``ttl`` (seconds), both extensions OpenAI clients send
    through ``extra_body``. Passed on as given; the runtime reads and checks it."""
    if "keep_alive" in body and "ttl" in body:
        raise invalid("Give either 'keep_alive' or 'ttl', not both.", "ttl")
    return body.get("keep_alive", body.get("ttl"))


def _stop(raw: object) -> tuple[str, ...] | None:
    if raw is None:
        return None
    values = [raw] if isinstance(raw, str) else raw
    if (
        not isinstance(values, list)
        or len(values) > MAX_STOP
        or not all(isinstance(v, str) and v for v in values)
    ):
        raise invalid(f"'stop' must be a string or up to {MAX_STOP} non-empty strings.", "stop")
    return tuple(values) or None


def _model(body: Mapping[str, Any]) -> str | None:
    # A missing or empty model lets the router choose, like "auto" in other gateways.
    model = _optional(body, "model", str)
    return None if not model or model == "auto" else model


def _optional(body: Mapping[str, Any], name: str, kind: type[Any]) -> Any:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise invalid(f"'{name}' must be of type {_type_name(kind)}.", name)
    return value


def _optional_int(body: Mapping[str, Any], name: str, minimum: int | None) -> int | None:
    value = _optional(body, name, int)
    if value is not None and minimum is not None and value < minimum:
        raise invalid(f"'{name}' must be {minimum} or more.", name)
    return value  # type: ignore[no-any-return]


def _optional_number(body: Mapping[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(f"'{name}' must be a number.", name)
    if not low <= value <= high:
        raise invalid(f"'{name}' must be between {low:g} and {high:g}.", name)
    return float(value)


def _type_name(kind: type[Any]) -> str:
    return {str: "string", bool: "boolean", int: "integer", dict: "object"}.get(kind, kind.__name__)


__all__ = [
    "ApiError",
    "GenerationCall",
    "Identity",
    "chat_call",
    "completion_call",
    "embedding_request",
    "identity",
    "parse_body",
]

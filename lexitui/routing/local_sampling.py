"""The sampler settings and structured output a request's ``parameters`` carry for the local
engine, beside its typed fields: llama.cpp's own samplers (``top_k``, ``min_p``,
``repeat_penalty``...; the Ollama API's ``options`` name them the same way) and
``response_format`` (OpenAI's shape, which the Ollama API's ``format`` becomes) as the engine's
JSON mode or JSON schema, and ``grammar`` (GBNF text, llama.cpp's own field)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lexitui.domain.inference import InvalidRequest, LocalFormatType, LocalResponseFormat

# parameter name -> LocalGenerationRequest field
_NUMBERS = {
    "top_k": "top_k",
    "min_p": "min_p",
    "typical_p": "typical_p",
    "repeat_penalty": "repetition_penalty",
    "mirostat": "mirostat",
    "mirostat_tau": "mirostat_tau",
    "mirostat_eta": "mirostat_eta",
}
_WHOLE = {"top_k", "mirostat"}


def local_sampling(params: Mapping[str, Any]) -> dict[str, Any]:
    """``LocalGenerationRequest`` fields for what ``params`` set (nothing for what they do not)."""
    fields: dict[str, Any] = {}
    for name, field in _NUMBERS.items():
        value = params.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidRequest(f"{name} must be a number, not {value!r}")
        fields[field] = int(value) if name in _WHOLE else float(value)
    response_format = _response_format(params.get("response_format"))
    if response_format is not None:
        fields["format"] = response_format
    grammar = params.get("grammar")
    if grammar is not None:
        if not isinstance(grammar, str):
            raise InvalidRequest("grammar must be GBNF text")
        fields["grammar"] = grammar
    return fields


def _response_format(raw: object) -> LocalResponseFormat | None:
    if raw is None:
        return None
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return LocalResponseFormat(LocalFormatType.JSON)
    if kind == "json_schema" and isinstance(raw, dict):
        spec = raw.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if isinstance(schema, dict):
            return LocalResponseFormat(LocalFormatType.JSON_SCHEMA, json.dumps(schema))
    raise InvalidRequest(f"unsupported response_format {raw!r}")

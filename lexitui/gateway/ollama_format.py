"""The router's answers out in Ollama's shapes: NDJSON lines and whole JSON objects.

A streamed ``/api/chat`` sends ``{"model", "created_at", "message": {"role", "content"},
"done": false}`` per piece, then a last line with ``done: true``, ``done_reason`` and the
timings; ``/api/generate`` the same with ``response`` in place of ``message``. Durations are
nanoseconds and times RFC 3339 in UTC, as Ollama writes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lexitui.domain.inference import LoadedModel
from lexitui.domain.language_model import LanguageModelResponse
from lexitui.gateway.ollama_catalog import CatalogModel

NS_PER_MS = 1_000_000
# What Ollama shows as the expiry of a model kept loaded for ever: now plus Go's longest
# duration (about 292 years).
FOREVER = timedelta(microseconds=(2**63 - 1) // 1000)


def rfc3339(moment: datetime | None = None) -> str:
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.isoformat().replace("+00:00", "Z")


def line(payload: dict[str, Any]) -> bytes:
    """One NDJSON line: compact JSON, which never holds a raw newline."""
    return json.dumps(payload, separators=(",", ":")).encode() + b"\n"


def done_reason(raw: str | None) -> str:
    """Ollama says "stop" or "length"; engines say "eos", "max_tokens" and the like."""
    if raw in ("length", "max_tokens", "max_length", "limit"):
        return "length"
    return "stop"


@dataclass(frozen=True)
class Timings:
    """The final line's figures, in nanoseconds."""

    total_ns: int
    load_ns: int = 0
    prompt_eval_count: int = 0
    prompt_eval_ns: int = 0
    eval_count: int = 0
    eval_ns: int = 0

    @classmethod
    def of(cls, response: LanguageModelResponse | None, total_ns: int) -> Timings:
        if response is None:
            return cls(total_ns)
        # The time to the first token is the prompt's evaluation; the rest is generation.
        ttft_ns = int((response.ttft_ms or 0.0) * NS_PER_MS)
        latency_ns = int(response.latency_ms * NS_PER_MS)
        return cls(
            total_ns=total_ns,
            # Loading is not told apart from answering by the router: it counts in the
            # prompt evaluation, so the total stays true.
            load_ns=0,
            prompt_eval_count=response.usage.prompt_tokens,
            prompt_eval_ns=ttft_ns,
            eval_count=response.usage.completion_tokens,
            eval_ns=max(0, latency_ns - ttft_ns),
        )

    def fields(self) -> dict[str, int]:
        return {
            "total_duration": self.total_ns,
            "load_duration": self.load_ns,
            "prompt_eval_count": self.prompt_eval_count,
            "prompt_eval_duration": self.prompt_eval_ns,
            "eval_count": self.eval_count,
            "eval_duration": self.eval_ns,
        }


def piece(model: str, text: str, *, chat: bool) -> dict[str, Any]:
    """A streamed piece of the answer."""
    return {"model": model, "created_at": rfc3339(), **_text(text, chat), "done": False}


def final(
    model: str, text: str, reason: str | None, timings: Timings, *, chat: bool
) -> dict[str, Any]:
    """The last line of a stream (``text`` empty), or the whole answer with ``stream: false``."""
    body: dict[str, Any] = {"model": model, "created_at": rfc3339(), **_text(text, chat)}
    body.update({"done": True, "done_reason": done_reason(reason), **timings.fields()})
    return body


def load_answer(model: str, reason: str, *, chat: bool) -> dict[str, Any]:
    """The answer to a load (``reason`` "load") or an unload ("unload") request."""
    return {
        "model": model,
        "created_at": rfc3339(),
        **_text("", chat),
        "done": True,
        "done_reason": reason,
    }


def embed_answer(
    model: str, vectors: list[list[float]], prompt_tokens: int, total_ns: int
) -> dict[str, Any]:
    return {
        "model": model,
        "embeddings": vectors,
        "total_duration": total_ns,
        "load_duration": 0,
        "prompt_eval_count": prompt_tokens,
    }


def _text(text: str, chat: bool) -> dict[str, Any]:
    if chat:
        return {"message": {"role": "assistant", "content": text}}
    return {"response": text}


def tags(models: list[CatalogModel]) -> dict[str, Any]:
    return {"models": [_listed(m) for m in models]}


def ps(loaded: list[tuple[LoadedModel, CatalogModel]]) -> dict[str, Any]:
    rows = []
    for model, entry in loaded:
        vram = model.resources.vram_bytes or 0
        size = (model.resources.ram_bytes + vram) or model.estimated_bytes
        expires = model.expires_at or datetime.now(UTC) + FOREVER
        rows.append(
            {
                **_listed(entry),
                "expires_at": rfc3339(expires),
                "size": size,
                "size_vram": vram,
                "context_length": model.resources.context_size or model.options.context_length,
            }
        )
    return {"models": rows}


def show(entry: CatalogModel) -> dict[str, Any]:
    capabilities = ["completion", "embedding"]  # the engine serves embeddings beside chat
    return {
        "license": "",
        "modelfile": f"# Modelfile of {entry.name}, served by lexitui\nFROM {entry.model.path}\n",
        "parameters": "",
        "template": entry.template(),
        "details": entry.details(),
        "model_info": entry.model_info(),
        "capabilities": capabilities,
        "modified_at": rfc3339(entry.model.installed_at),
    }


def _listed(entry: CatalogModel) -> dict[str, Any]:
    return {
        "name": entry.name,
        "model": entry.name,
        "modified_at": rfc3339(entry.model.installed_at),
        "size": entry.model.size_bytes,
        "digest": entry.digest,
        "details": entry.details(),
    }

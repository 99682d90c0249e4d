"""Streams one generation from a llama.cpp server and measures it.

Yields a ``LocalGenerationChunk`` per piece of text (``token_index`` counts them: llama.cpp sends
one token per event) and a final chunk with ``is_complete`` and the whole
``LocalGenerationResult``. Figures: TTFT from sending the request to the first token (what a user
waits); decode and prompt-eval speed as the engine measured them (its ``timings``), which leaves
the network out. Closing the iterator closes the HTTP stream, and llama.cpp then stops decoding
and frees the slot.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lexitui.domain.inference import (
    LocalGenerationChunk,
    LocalGenerationMetrics,
    LocalGenerationRequest,
    LocalGenerationResult,
    LocalGenerationUsage,
)
from lexitui.runtime.errors import GenerationError
from lexitui.runtime.request_body import delta_text, endpoint_path, request_body

if TYPE_CHECKING:
    import httpx

# llama.cpp closes the connection after a streamed answer; asking for that up front keeps the
# pool from handing a dead connection to the next request.
CLOSE = {"Connection": "close"}
RETRYABLE_STATUS = {429, 502, 503}


@dataclass
class _Tally:
    started: float = field(default_factory=time.perf_counter)
    first: float = 0.0
    last: float = 0.0
    pieces: list[str] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)
    finish: str | None = None


async def stream_generation(
    client: httpx.AsyncClient,
    request: LocalGenerationRequest,
    model: str,
    *,
    first_token_timeout: float | None = None,
) -> AsyncGenerator[LocalGenerationChunk]:
    import httpx

    body = request_body(request, model, stream=True)
    tally = _Tally()
    # The deadline runs from sending the request to the first event, and so covers the
    # connection and the answer's head too: a frozen engine (stopped, wedged) still accepts
    # connections in the kernel and then never answers, not even a status line.
    first_event = asyncio.timeout(first_token_timeout)
    try:
        async with (
            first_event,
            client.stream(
                "POST", endpoint_path(request), json=body, headers=CLOSE, timeout=None
            ) as resp,
        ):
            if resp.status_code != 200:
                text = (await resp.aread()).decode("utf-8", "replace")
                raise GenerationError(
                    error_text(resp.status_code, text),
                    retryable=resp.status_code in RETRYABLE_STATUS,
                )
            async for event in _sse_events(resp):
                # Lifted before anything is yielded: a deadline must never fire while
                # the caller, not this generator, is running.
                first_event.reschedule(None)
                for chunk in _read_event(event, tally):
                    yield chunk
    except TimeoutError:
        if not first_event.expired():
            raise
        raise GenerationError(
            f"no answer within {first_token_timeout:.0f} s", retryable=False
        ) from None
    except httpx.TransportError as exc:
        # Before the first token nothing was shown: the caller may send it again.
        what = "the engine stopped answering" if tally.first else "could not reach the engine"
        raise GenerationError(f"{what}: {exc!r}", retryable=not tally.first) from exc
    yield _final_chunk(tally, model)


def _read_event(event: dict[str, Any], tally: _Tally) -> list[LocalGenerationChunk]:
    tally.usage = event.get("usage") or tally.usage
    tally.timings = event.get("timings") or tally.timings
    out: list[LocalGenerationChunk] = []
    for choice in event.get("choices", []):
        tally.finish = choice.get("finish_reason") or tally.finish
        text = delta_text(choice)
        if text:
            tally.last = time.perf_counter()
            tally.first = tally.first or tally.last
            out.append(LocalGenerationChunk(text=text, token_index=len(tally.pieces)))
            tally.pieces.append(text)
    return out


def _final_chunk(tally: _Tally, model: str) -> LocalGenerationChunk:
    result = build_result(tally, model)
    return LocalGenerationChunk(
        text="",
        is_complete=True,
        finish_reason=result.finish_reason,
        token_index=len(tally.pieces),
        result=result,
    )


def build_result(tally: _Tally, model: str) -> LocalGenerationResult:
    ended = time.perf_counter()
    timings, usage = tally.timings, tally.usage
    completion = int(usage.get("completion_tokens", len(tally.pieces)))
    generating_ms = float(timings.get("predicted_ms", (tally.last - tally.first) * 1000))
    measured_tps = (completion - 1) / (generating_ms / 1000) if generating_ms > 0 else 0.0
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
    return LocalGenerationResult(
        text="".join(tally.pieces),
        usage=LocalGenerationUsage(
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=completion,
            cached_tokens=int(cached or 0),
        ),
        finish_reason=tally.finish,
        metrics=LocalGenerationMetrics(
            total_ms=(ended - tally.started) * 1000,
            ttft_ms=(tally.first - tally.started) * 1000 if tally.first else 0.0,
            generation_ms=generating_ms,
            tokens_per_second=float(timings.get("predicted_per_second", measured_tps)),
            prompt_eval_tokens_per_second=float(timings.get("prompt_per_second", 0.0)),
        ),
        model_id=model,
        context_tokens=context_tokens(timings),
    )


def context_tokens(timings: dict[str, Any]) -> int:
    """What the slot holds now: the reused cache, the new prompt and the answer, less the last
    token, which was sampled but never evaluated into the cache."""
    predicted = int(timings.get("predicted_n", 0))
    held = int(timings.get("cache_n", 0)) + int(timings.get("prompt_n", 0)) + predicted
    return held - 1 if predicted else held


async def _sse_events(resp: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    # Read to the body's end (it ends right after ``[DONE]``), not left at ``[DONE]``: httpx's
    # readers stacked under ``aiter_lines`` then finish, instead of each being finalized later
    # by a task of its own on the loop (a dozen per answer, CPU a busy server would rather
    # spend answering).
    done = False
    async for line in resp.aiter_lines():
        if done:
            continue
        if line.startswith("error:"):
            raise GenerationError(line[6:].strip())
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            done = True
            continue
        event = json.loads(data)
        if "error" in event:  # llama.cpp reports a failure inside the stream this way
            raise GenerationError(error_text(500, data))
        yield event


def error_text(status: int, body: str) -> str:
    try:
        detail = json.loads(body).get("error", body)
        if isinstance(detail, dict):
            detail = detail.get("message", detail)
    except (json.JSONDecodeError, AttributeError):
        detail = body
    return f"HTTP {status}: {str(detail)[:300]}"

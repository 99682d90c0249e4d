"""One answer of ``lexitui run``, sent through the router (source ``cli``) like every request.

The question names the model ``run`` loaded, which pins it to the local provider; once that
model is gone (its engine died, ``lexitui unload``), the router decides, and a cloud answer
says on stderr who gave it, why, and what it cost. Every answer is recorded, so ``lexitui usage``
counts it.
"""

from __future__ import annotations

import json
import sys
from contextlib import aclosing
from dataclasses import dataclass

from lexitui.domain.inference import LocalGenerationRequest
from lexitui.domain.language_model import LanguageModelResponse
from lexitui.domain.routing import RoutedRequestRecord
from lexitui.routing.local_requests import loaded_model_request
from lexitui.routing.money import usd
from lexitui.routing.record_watch import RecordWatch
from lexitui.services import Services

SOURCE = "cli"


@dataclass(frozen=True)
class RoutedAnswer:
    response: LanguageModelResponse
    record: RoutedRequestRecord | None  # None only if the service closed under the request

    @property
    def is_local(self) -> bool:
        return self.record is None or self.record.is_local


async def answer(
    services: Services, request: LocalGenerationRequest, *, quiet: bool
) -> RoutedAnswer:
    """Stream the answer to stdout (unless ``quiet``) and return it with its record."""
    routing = services.routing
    response: LanguageModelResponse | None = None
    with RecordWatch(routing.records) as watch:
        routed = loaded_model_request(request, services.runtime)
        chunks = routing.stream(routed, source=SOURCE, request_id=watch.request_id)
        async with aclosing(chunks):
            async for chunk in chunks:
                if chunk.text and not quiet:
                    sys.stdout.write(chunk.text)
                    sys.stdout.flush()
                response = chunk.response or response
    assert response is not None, "a finished stream always ends with its response"
    return RoutedAnswer(response, watch.record)


def report(answer: RoutedAnswer, as_json: bool, *, engine: str = "") -> None:
    """The figures: one JSON object on stdout, or a line on stderr (two for a cloud answer)."""
    r, record = answer.response, answer.record
    if as_json:
        print(json.dumps(_as_json(answer, engine)))
        return
    sys.stdout.write("\n")
    figures = [f"{r.usage.completion_tokens} tokens"]
    if r.tokens_per_second is not None:
        figures.append(f"{r.tokens_per_second:.1f} tok/s")
    if r.ttft_ms is not None:
        figures.append(f"TTFT {r.ttft_ms:.0f} ms")
    figures.append(r.finish_reason or "done")
    print(f"[{', '.join(figures)}]", file=sys.stderr)
    if record is not None and (not record.is_local or record.was_fallback):
        cost = "local" if record.is_local else f"cost {usd(record.cost_usd)}"
        print(
            f"[answered by {record.provider_id} {record.model_id}: {record.reason}; {cost}]",
            file=sys.stderr,
        )


def _as_json(answer: RoutedAnswer, engine: str) -> dict[str, object]:
    r, record = answer.response, answer.record

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "text": r.text,
        "completion_tokens": r.usage.completion_tokens,
        "prompt_tokens": r.usage.prompt_tokens,
        "ttft_ms": rounded(r.ttft_ms),
        "tokens_per_second": rounded(r.tokens_per_second),
        "prompt_eval_tokens_per_second": rounded(r.prompt_tokens_per_second),
        "total_ms": round(r.latency_ms, 1),
        "finish_reason": r.finish_reason,
        # What answered: "embedded llama.cpp", "llama-server (…)", or the cloud provider.
        "engine": engine if answer.is_local else r.provider_id,
        "provider": r.provider_id,
        "model": r.model_id,
        "reason": record.reason if record else None,
        "cost_usd": None if record is None or record.cost_usd is None else str(record.cost_usd),
    }

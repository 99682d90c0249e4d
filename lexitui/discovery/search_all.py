"""One search over several registries at once: the Hub and every configured registry beside it.

They are asked concurrently; each answer keeps its registry's name on every model. A registry
that fails (down, refusing, too slow) only adds a line to ``unavailable`` with its reason: the
others' models are still shown. Only when none answers is the first registry's own error raised,
so a search of the Hub alone fails exactly as it always did.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from lexitui.discovery.registry import ModelRegistry
from lexitui.domain.discovery import (
    FacetValue,
    ModelSearchQuery,
    ModelSearchResult,
    SearchFacet,
    UnavailableRegistry,
)

# A configured registry is given this long; the Hub keeps its own per-request timeouts.
REGISTRY_TIMEOUT_S = 30.0


def labelled(result: ModelSearchResult, name: str) -> ModelSearchResult:
    """Every model of ``result`` marked as ``name``'s, unless its registry already said."""
    models = tuple(replace(m, registry_name=m.registry_name or name) for m in result.models)
    return replace(result, models=models)


async def search_together(
    first: ModelRegistry,
    others: Sequence[ModelRegistry],
    query: ModelSearchQuery,
    *,
    timeout_s: float = REGISTRY_TIMEOUT_S,
) -> ModelSearchResult:
    async def ask(registry: ModelRegistry, limit: float | None) -> ModelSearchResult:
        return labelled(await asyncio.wait_for(registry.search(query), limit), registry.name)

    registries = [first, *others]
    answers = await asyncio.gather(
        ask(first, None),
        *(ask(r, timeout_s) for r in others),
        return_exceptions=True,
    )
    results: list[ModelSearchResult] = []
    unavailable: list[UnavailableRegistry] = []
    for registry, answer in zip(registries, answers, strict=True):
        if isinstance(answer, ModelSearchResult):
            results.append(answer)
        elif isinstance(answer, Exception):
            reason = _reason(registry, answer, timeout_s)
            unavailable.append(UnavailableRegistry(registry.name, reason))
        else:  # a cancellation (the user searched again): not a registry's failure
            raise answer
    if not results:
        failed = answers[0]
        assert isinstance(failed, BaseException)
        raise failed
    return merged(results, tuple(unavailable))


def merged(
    results: Sequence[ModelSearchResult], unavailable: tuple[UnavailableRegistry, ...] = ()
) -> ModelSearchResult:
    """The answers one after the other (each registry's own order kept), facets summed."""
    ages = [r.cached_age_seconds for r in results if r.cached_age_seconds is not None]
    return ModelSearchResult(
        models=tuple(m for r in results for m in r.models),
        total_count=sum(r.total_count for r in results),
        facets=_facets([f for r in results for f in r.facets]),
        cached_age_seconds=max(ages) if ages else None,
        has_more=any(r.has_more for r in results),
        unavailable=unavailable,
    )


def _facets(facets: Sequence[SearchFacet]) -> tuple[SearchFacet, ...]:
    counts: dict[str, Counter[str]] = {}
    for facet in facets:
        counter = counts.setdefault(facet.name, Counter())
        for value in facet.values:
            counter[value.value] += value.count
    return tuple(
        SearchFacet(
            name,
            tuple(
                FacetValue(v, n) for v, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
            ),
        )
        for name, counter in counts.items()
    )


def _reason(registry: ModelRegistry, exc: Exception, timeout_s: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout_s:g} s"
    text = " ".join(str(exc).split()) or type(exc).__name__
    redact = getattr(registry, "redact", None)
    return redact(text) if redact is not None else text

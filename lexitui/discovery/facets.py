"""Facet counts over one page of search results: what the filter sidebar offers next.

Counted over the returned page only: the Hub reports no totals per value, and counting a larger
pool would show numbers the user cannot page to.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from lexitui.discovery.hf_mapping import HubHit
from lexitui.domain.discovery import FacetValue, SearchFacet


def _one(value: str | None) -> Iterable[str]:
    return (value,) if value else ()


FACETS: tuple[tuple[str, Callable[[HubHit], Iterable[str]]], ...] = (
    ("author", lambda h: _one(h.model.author)),
    ("library", lambda h: _one(h.model.library)),
    ("pipeline_tag", lambda h: _one(h.model.pipeline_tag)),
    ("format", lambda h: h.formats),
    ("quantization", lambda h: h.quantizations),
    ("license", lambda h: _one(h.model.license)),
)


def facets_for(hits: Sequence[HubHit]) -> tuple[SearchFacet, ...]:
    out = []
    for name, values_of in FACETS:
        counts = Counter(v for hit in hits for v in set(values_of(hit)))
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        out.append(SearchFacet(name, tuple(FacetValue(v, n) for v, n in ordered)))
    return tuple(out)

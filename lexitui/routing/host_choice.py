"""Which of several hosts serving one model answers: the least loaded.

A host (``lexitui.fleet``) tells its load through ``host_load()``: the requests it is
answering or holding in line (its last probe, or what this router sent it since, whichever is
more), then the share of its KV cache in use, then how many requests this router sent it (so
idle hosts take turns instead of the first one taking everything). Pure and cheap: the router
calls it on every request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from lexitui.routing.provider import LanguageModelProvider, model_named

if TYPE_CHECKING:
    from lexitui.routing.strategies import Candidate


@dataclass(frozen=True)
class HostLoad:
    in_line: int  # running + waiting
    kv_used: float | None  # 0..1; None when the host does not say
    sent: int  # requests this router has sent it


T = TypeVar("T")


def least_loaded_first(items: Sequence[T], loads: Sequence[HostLoad]) -> list[T]:
    """``items`` ordered by their ``loads``: fewest requests in line, then least KV cache in
    use, then fewest sent; equal loads keep their order."""
    order = sorted(
        range(len(items)),
        key=lambda i: (loads[i].in_line, loads[i].kv_used or 0.0, loads[i].sent),
    )
    return [items[i] for i in order]


def host_load(provider: LanguageModelProvider) -> HostLoad | None:
    reader = getattr(provider, "host_load", None)
    load = reader() if callable(reader) else None
    return load if isinstance(load, HostLoad) else None


def hosts_serving(providers: Sequence[LanguageModelProvider], model: str | None) -> set[str]:
    """The ids of the hosts that answer to ``model`` (none when no model is named)."""
    if not model:
        return set()
    return {
        p.provider_id
        for p in providers
        if host_load(p) is not None and model_named(p, model) is not None
    }


def spread_over(
    providers: Sequence[LanguageModelProvider], pinned: str | None, model: str | None
) -> set[str]:
    """The hosts a request naming ``model`` is spread over (none: route as usual): every host
    serving it when several do, or when this machine would first have to load its own copy."""
    hosts = hosts_serving(providers, model)
    if not hosts or model is None:
        return set()
    if pinned in hosts:
        return hosts if len(hosts) > 1 else set()
    owner = next((p for p in providers if p.provider_id == pinned), None)
    loaded = getattr(owner, "has_loaded", None)
    if owner is not None and owner.is_local and callable(loaded) and not loaded(model):
        return hosts
    return set()


def hosts_by_load(ordered: list[Candidate]) -> list[Candidate]:
    """``ordered`` with its hosts reordered among the places hosts hold, least loaded first;
    every other candidate keeps its place."""
    places = [i for i, c in enumerate(ordered) if host_load(c.provider) is not None]
    if len(places) < 2:
        return ordered
    hosts = [ordered[i] for i in places]
    loads = [host_load(c.provider) or HostLoad(0, None, 0) for c in hosts]
    result = list(ordered)
    for place, candidate in zip(places, least_loaded_first(hosts, loads), strict=True):
        result[place] = candidate
    return result

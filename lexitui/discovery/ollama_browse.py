"""Browsing the Ollama library through its website: search, the popular list, a model's tags.

What the pages say becomes the roadmap's records: a search result is a ``RemoteModel`` whose id
is the name ``ollama pull`` takes (``llama3.2``), with the description, pull count (as
``downloads``), last update, and its capabilities and sizes as ``capability:…``/``size:…`` tags
(``sizes_of``/``capabilities_of`` read them back). A model's tags page gives one ``ModelVariant``
per ``name:tag`` with the size the page shows; it has no download link, because the manifest
says which blob to fetch: the registry resolves the tag when it is pulled.

Answers are cached in the store like the Hub's (``RegistryCache``): a search for an hour, a tag
list for a day. When the site cannot answer now (offline, 429, 5xx) the last answer is served
however old, with its age; with nothing stored the error is raised. Cached rows are parsed back
through the records' own decoder, so a damaged row counts as absent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from lexitui.discovery.errors import RegistryUnavailableError
from lexitui.discovery.ollama_pages import (
    LibraryCard,
    TagsPage,
    parse_search_page,
    parse_tags_page,
)
from lexitui.discovery.ollama_site import SiteFetcher
from lexitui.discovery.quant_names import parameter_count, parse_quantization
from lexitui.discovery.records_json import dumps, record_from_json
from lexitui.domain.discovery import ModelVariant, RemoteModel
from lexitui.domain.enums import ModelFormat, ModelRegistryType
from lexitui.domain.from_json import RecordDecodeError
from lexitui.store.search_cache import DETAILS_TTL_S, SEARCH_TTL_S, RegistryCache, cache_key

log = logging.getLogger(__name__)

SEARCH_KIND = "ollama_site_search"
TAGS_KIND = "ollama_site_tags"
SIZE_TAG = "size:"
CAPABILITY_TAG = "capability:"
TAG_COUNT_TAG = "tags:"
REGISTRY_HOST = "registry.ollama.ai"
MAX_PAGES = 5  # a search reads at most this many result pages


def sizes_of(model: RemoteModel) -> tuple[str, ...]:
    """The sizes the library lists for a model ("1b", "8x22b")."""
    return tuple(t.removeprefix(SIZE_TAG) for t in model.tags if t.startswith(SIZE_TAG))


def capabilities_of(model: RemoteModel) -> tuple[str, ...]:
    return tuple(t.removeprefix(CAPABILITY_TAG) for t in model.tags if t.startswith(CAPABILITY_TAG))


def tag_count_of(model: RemoteModel) -> int | None:
    """How many tags the library lists for a model."""
    for tag in model.tags:
        count = tag.removeprefix(TAG_COUNT_TAG)
        if tag.startswith(TAG_COUNT_TAG) and count.isdigit():
            return int(count)
    return None


def library_facts(model: RemoteModel) -> str:
    """What the Ollama library lists for a model: sizes, capabilities, pulls, tags, update."""
    sizes, capabilities, count = sizes_of(model), capabilities_of(model), tag_count_of(model)
    if not sizes and not capabilities and count is None:
        return ""
    parts = [f"Sizes: {', '.join(sizes)}" if sizes else "", ", ".join(capabilities)]
    parts.append(f"{model.downloads:,} pulls")
    if count is not None:
        parts.append(f"{count} tags")
    if model.updated_at is not None:
        parts.append(f"updated {model.updated_at:%Y-%m-%d}")
    return " · ".join(p for p in parts if p)


def _smallest(sizes: tuple[str, ...]) -> str | None:
    """The smallest size as a parameter count ("1.5B"): the fit badge says if *a* size fits."""
    counted = [(n, s.upper()) for s in sizes if (n := parameter_count(s.upper())) is not None]
    return min(counted)[1] if counted else None


def card_to_model(card: LibraryCard, site_url: str) -> RemoteModel:
    namespace, _, model = card.name.rpartition("/")
    tags = [CAPABILITY_TAG + c for c in card.capabilities] + [SIZE_TAG + s for s in card.sizes]
    if card.tag_count is not None:
        tags.append(f"{TAG_COUNT_TAG}{card.tag_count}")
    return RemoteModel(
        id=card.name,
        name=model,
        registry=ModelRegistryType.OLLAMA_LIBRARY,
        description=card.description or None,
        author=namespace or None,
        homepage=f"{site_url}/{card.name if namespace else 'library/' + card.name}",
        repository=f"{REGISTRY_HOST}/{card.name if namespace else 'library/' + card.name}",
        parameter_count=_smallest(card.sizes),
        downloads=card.pulls or 0,
        tags=tuple(tags),
        updated_at=card.updated_at,
    )


def tags_to_model(page: TagsPage, site_url: str) -> RemoteModel:
    """The model with one variant per tag, smallest first; ``latest``'s twin is recommended."""
    name = page.card.name
    variants = []
    for tag in page.tags:
        parsed = parse_quantization(tag.tag)
        variants.append(
            ModelVariant(
                variant_id=f"{name}:{tag.tag}",
                filename=f"{name}:{tag.tag}",
                # Library tags are GGUF weights; the manifest confirms it when the tag is pulled.
                format=ModelFormat.GGUF,
                size_bytes=tag.size_bytes,
                quantization=parsed.quantization if parsed else None,
            )
        )
    variants.sort(key=lambda v: (v.size_bytes, v.variant_id))
    latest = next((t for t in page.tags if t.tag == "latest"), None)
    recommended = next((v for v in variants if v.variant_id == f"{name}:latest"), None)
    if latest is not None and latest.digest:
        twins = [t for t in page.tags if t.digest == latest.digest and t.tag != "latest"]
        if twins:
            recommended = next(v for v in variants if v.variant_id == f"{name}:{twins[0].tag}")
    card = page.card
    if card.tag_count is None:
        card = replace(card, tag_count=len(page.tags))
    return replace(
        card_to_model(card, site_url), variants=tuple(variants), recommended_variant=recommended
    )


class LibraryBrowser:
    def __init__(
        self,
        cache: RegistryCache,
        site_url: str,
        fetcher: Callable[[], SiteFetcher],
    ) -> None:
        self._cache = cache
        self.site_url = site_url.rstrip("/")
        self._fetcher = fetcher

    async def search(self, text: str, wanted: int) -> tuple[list[RemoteModel], bool, float | None]:
        """Models for ``text`` (empty: the popular list), reading result pages until ``wanted``
        are found or the site has no more; the age is set when any page came from the cache
        because the site could not answer."""
        models: dict[str, RemoteModel] = {}
        ages: list[float] = []
        more = False
        for page in range(1, MAX_PAGES + 1):
            payload, age = await self._search_page(text, page)
            if age is not None:
                ages.append(age)
            for item in payload["models"]:
                model = record_from_json(RemoteModel, item)
                models.setdefault(model.id.casefold(), model)
            more = bool(payload["more"])
            if not more or len(models) >= wanted:
                break
        return list(models.values()), more, max(ages) if ages else None

    async def model(self, name: str) -> tuple[RemoteModel, float | None]:
        """The model behind ``name`` with one variant per tag (``/library/NAME/tags``)."""
        key = cache_key(TAGS_KIND, [self.site_url, name.casefold()])

        async def fetch() -> str:
            html = await self._fetcher().tags_page(name)
            return dumps(tags_to_model(parse_tags_page(html, name), self.site_url))

        payload, age = await self._cached(key, TAGS_KIND, DETAILS_TTL_S, fetch)
        return record_from_json(RemoteModel, payload), age

    async def _search_page(self, text: str, page: int) -> tuple[dict[str, Any], float | None]:
        key = cache_key(SEARCH_KIND, [self.site_url, text.casefold(), page])

        async def fetch() -> str:
            parsed = parse_search_page(await self._fetcher().search_page(text, page))
            models = [card_to_model(card, self.site_url) for card in parsed.cards]
            return dumps({"models": models, "more": parsed.has_more})

        return await self._cached(key, SEARCH_KIND, SEARCH_TTL_S, fetch)

    async def _cached(
        self, key: str, kind: str, ttl: float, fetch: Callable[[], Awaitable[str]]
    ) -> tuple[Any, float | None]:
        """A fresh cached answer, else the site's (then stored), else — when the site cannot
        answer now — the last stored one with its age."""
        fresh = await self._cache.get(key, ttl)
        if fresh is not None and _readable(fresh.payload, kind):
            return fresh.payload, None
        try:
            text = await fetch()
        except RegistryUnavailableError as error:
            stale = await self._cache.get(key, None)
            if stale is None or not _readable(stale.payload, kind):
                raise
            log.info("serving a %.0f s old library page: %s", stale.age_seconds, error)
            return stale.payload, stale.age_seconds
        await self._cache.put(key, kind, text)
        return json.loads(text), None


def _readable(payload: Any, kind: str) -> bool:
    """A cached row decodes to what was stored (a file anyone could edit, or an older format)."""
    try:
        if kind == SEARCH_KIND:
            for item in payload["models"]:
                record_from_json(RemoteModel, item)
            return isinstance(payload["more"], bool)
        record_from_json(RemoteModel, payload)
        return True
    except (RecordDecodeError, KeyError, TypeError, ValueError):
        return False

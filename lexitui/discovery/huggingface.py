"""The Hugging Face Hub as a ``ModelRegistry``: search, details, variants, through the cache.

Every answer goes through ``RegistryCache``: a fresh one (1 h for searches, 24 h for details and
file lists) is served without a request; otherwise the Hub is asked and the answer stored. When
the Hub cannot answer — ``HF_HUB_OFFLINE``, no connection, 429, a 5xx — the last stored answer is
served however old, its age reported in ``ModelSearchResult.cached_age_seconds`` (and to
``on_stale`` for details and variants, whose records have no such field); with nothing stored the
error is raised. Blocking ``huggingface_hub`` calls run in a worker thread.

The endpoint, token and offline flag are read per call (``hf_settings``), so a token set after
start-up is used at once. Cache keys and rows hold the endpoint without userinfo and never the
token (K2).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from lexitui.discovery.errors import (
    InvalidModelIdError,
    ModelNotFoundError,
    RegistryOfflineError,
    RegistryUnavailableError,
)
from lexitui.discovery.facets import facets_for
from lexitui.discovery.hf_client import TIMEOUT_S, HubClient
from lexitui.discovery.hf_errors import translate
from lexitui.discovery.hf_mapping import HubHit, to_hit
from lexitui.discovery.hf_query import Params, plan_search
from lexitui.discovery.hf_settings import (
    HubToken,
    display_url,
    offline,
    resolve_endpoint,
    resolve_token,
)
from lexitui.discovery.records_json import dumps, record_from_json
from lexitui.discovery.variants import RepoFile, group_variants
from lexitui.domain.discovery import ModelSearchQuery, ModelSearchResult, ModelVariant, RemoteModel
from lexitui.domain.enums import ModelCategory, ModelRegistryType, ModelSortOrder
from lexitui.store.search_cache import (
    DETAILS_TTL_S,
    SEARCH_TTL_S,
    RegistryCache,
    cache_key,
    utc_now,
)

log = logging.getLogger(__name__)
_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


@dataclass(frozen=True)
class StaleNotice:
    """An answer came from the cache because the registry could not give a fresh one."""

    subject: str  # a model id, or "search"
    age_seconds: float
    reason: str


@dataclass(frozen=True)
class RemoteFileInfo:
    url: str
    size: int | None
    etag: str | None  # the sha256 for LFS files
    commit: str | None


class HuggingFaceRegistry:
    type = ModelRegistryType.HUGGING_FACE
    name = "Hugging Face"

    def __init__(
        self,
        cache: RegistryCache,
        *,
        token: str | None = None,
        endpoint: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        compatible: Callable[[RemoteModel], bool] | None = None,
        on_stale: Callable[[StaleNotice], None] | None = None,
        timeout_s: float = TIMEOUT_S,
        token_source: Callable[[], HubToken | None] | None = None,
    ) -> None:
        """``token``: the one from lexitui's config; ``HF_TOKEN`` still wins over it (K4).
        ``compatible``: the hardware check ``only_compatible`` searches apply (None: skipped).
        ``token_source``: the only token to use, for an endpoint other than the Hub (the Hub's
        own token, from ``HF_TOKEN`` or a login, must never be sent there: K3)."""
        self._cache = cache
        self._config_token = token
        self._endpoint = endpoint
        self._clock = clock
        self._compatible = compatible
        self._on_stale = on_stale
        self._timeout = timeout_s
        self._token_source = token_source

    # -- the ModelRegistry protocol -------------------------------------------------------------

    async def search(self, query: ModelSearchQuery) -> ModelSearchResult:
        check = self._compatible if query.only_compatible else None
        plan = plan_search(query, extra_filter=check is not None)
        answers = await asyncio.gather(*(self._listing(p, plan.fetch) for p in plan.requests))
        ages = [age for _, _, age in answers if age is not None]
        more = any(has_more for _, has_more, _ in answers)
        hits = plan.merge([pool for pool, _, _ in answers])
        if check is not None:
            hits = [h for h in hits if check(h.model)]
        start = max(query.skip, 0)
        end = start + max(query.take, 0)
        page = hits[start:end]
        return ModelSearchResult(
            models=tuple(h.model for h in page),
            total_count=len(hits),  # matches seen so far; the Hub reports no total
            facets=facets_for(page),
            cached_age_seconds=max(ages) if ages else None,
            has_more=len(hits) > end or (more and plan.client_order is None),
        )

    async def get_model(self, model_id: str) -> RemoteModel | None:
        try:
            hit, revision = await self._details(model_id)
            variants = await self._variants(model_id, hit, revision)
        except ModelNotFoundError:
            return None
        return replace(hit.model, variants=tuple(variants))

    async def get_variants(self, model_id: str) -> list[ModelVariant]:
        """Raises ``ModelNotFoundError`` for a model the Hub does not have."""
        hit, revision = await self._details(model_id)
        return await self._variants(model_id, hit, revision)

    async def trending(self, limit: int = 20) -> list[RemoteModel]:
        result = await self.search(ModelSearchQuery(sort=ModelSortOrder.TRENDING, take=limit))
        return list(result.models)

    async def by_category(self, category: ModelCategory, limit: int = 20) -> list[RemoteModel]:
        query = ModelSearchQuery(category=category, sort=ModelSortOrder.DOWNLOADS, take=limit)
        return list((await self.search(query)).models)

    # -- beyond the protocol --------------------------------------------------------------------

    async def check_access(
        self, model_id: str, filename: str, revision: str = "main"
    ) -> RemoteFileInfo:
        """What the Hub says about one file before it is downloaded (a HEAD, never cached):
        raises ``GatedModelError`` with what to do when the account may not fetch it."""
        _check_id(model_id)
        endpoint, token = self._settings()
        if offline():
            raise RegistryOfflineError(display_url(endpoint), "HF_HUB_OFFLINE is set")
        client = HubClient(endpoint, token, self._timeout)
        try:
            meta = await asyncio.to_thread(client.file_metadata, model_id, filename, revision)
        except Exception as exc:
            raise translate(exc, endpoint=endpoint, model_id=model_id, token=token) from None
        return RemoteFileInfo(meta.location, meta.size, meta.etag, meta.commit_hash)

    # -- internals ------------------------------------------------------------------------------

    def _settings(self) -> tuple[str, HubToken | None]:
        if self._token_source is not None:
            return resolve_endpoint(self._endpoint), self._token_source()
        return resolve_endpoint(self._endpoint), resolve_token(self._config_token)

    async def _listing(self, params: Params, fetch: int) -> tuple[list[HubHit], bool, float | None]:
        endpoint = display_url(self._settings()[0])
        key = cache_key("hf-search", [endpoint, list(params), fetch])

        def request(client: HubClient) -> dict[str, Any]:
            models, more = client.list_models(list(params), fetch)
            return {"hits": [to_hit(m, endpoint) for m in models], "more": more}

        age: list[float] = []
        payload = await self._cached(key, "search", SEARCH_TTL_S, request, None, age)
        hits = [record_from_json(HubHit, h) for h in payload["hits"]]
        return hits, bool(payload["more"]), age[0] if age else None

    async def _details(self, model_id: str) -> tuple[HubHit, str]:
        """The model (without variants) and the commit its files should be listed at."""
        _check_id(model_id)
        endpoint = display_url(self._settings()[0])
        key = cache_key("hf-model", [endpoint, model_id])

        def request(client: HubClient) -> dict[str, Any]:
            info = client.model_info(model_id)
            return {"hit": to_hit(info, endpoint), "revision": info.sha or "main"}

        payload = await self._cached(key, "model", DETAILS_TTL_S, request, model_id)
        return record_from_json(HubHit, payload["hit"]), str(payload["revision"])

    async def _variants(self, model_id: str, hit: HubHit, revision: str) -> list[ModelVariant]:
        endpoint = self._settings()[0]
        key = cache_key("hf-variants", [display_url(endpoint), model_id, revision])

        def fetch(client: HubClient) -> list[ModelVariant]:
            listed = client.list_files(model_id, revision)
            files = [
                RepoFile(f.path, f.size, f.lfs.sha256 if f.lfs is not None else None)
                for f in listed
            ]
            return group_variants(
                files,
                repo_id=model_id,
                repo_tags=hit.model.tags,
                revision=revision,
                endpoint=display_url(endpoint),
            )

        payload = await self._cached(key, "variants", DETAILS_TTL_S, fetch, model_id)
        return [record_from_json(ModelVariant, v) for v in payload]

    async def _cached(
        self,
        key: str,
        kind: str,
        ttl: float,
        fetch: Callable[[HubClient], Any],
        model_id: str | None,
        age_out: list[float] | None = None,
    ) -> Any:
        """A fresh cached answer, else the Hub's (then stored), else — when the Hub cannot
        answer now — a stale cached one, whose age is appended to ``age_out``."""
        now = self._clock()
        endpoint, token = self._settings()
        error: RegistryUnavailableError
        if offline():
            error = RegistryOfflineError(display_url(endpoint), "HF_HUB_OFFLINE is set")
        else:
            fresh = await self._cache.get(key, ttl, now=now)
            if fresh is not None:
                return fresh.payload
            client = HubClient(endpoint, token, self._timeout)
            try:
                text = await asyncio.to_thread(lambda: dumps(fetch(client)))
            except Exception as exc:
                translated = translate(exc, endpoint=endpoint, model_id=model_id, token=token)
                if not isinstance(translated, RegistryUnavailableError):
                    raise translated from exc
                error = translated
            else:
                await self._cache.put(key, kind, text, now=now)
                return json.loads(text)
        stale = await self._cache.get(key, None, now=now)
        if stale is None:
            raise error
        log.info("serving a %.0f s old cached answer: %s", stale.age_seconds, error)
        if age_out is not None:
            age_out.append(stale.age_seconds)
        if self._on_stale is not None:
            self._on_stale(StaleNotice(model_id or "search", stale.age_seconds, str(error)))
        return stale.payload


def _check_id(model_id: str) -> None:
    if not _MODEL_ID.match(model_id) or ".." in model_id:
        raise InvalidModelIdError(model_id)

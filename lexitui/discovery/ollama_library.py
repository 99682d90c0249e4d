"""The Ollama library as a ``ModelRegistry``: its website to browse, its registry to resolve.

Browsing (search, the popular list, a model's tags) reads ollama.com's public library pages,
since the library has no JSON search API (``ollama_browse``); a model found there is the name
``ollama pull`` takes (``llama3.2``), with one variant per tag and the size the site shows.

Resolving reads the registry (``registry.ollama.ai``) through its distribution API: a
``name:tag`` resolves to a manifest, whose config blob says the format, family, parameter size
and quantization, and whose layers give the weights' size and sha256. A name typed with its tag,
and every tag when it is pulled, goes through the manifest.

With no website configured (``site_url=None``: a registry mirror without one), search runs over
a list of names lexitui already knows: every name resolved here before (kept in the cache) and
the models the local Ollama has (``known_names``). ``limitations`` says which in sentences the
UI shows as they are.

Manifests are cached for a day: a tag can move (``latest`` does), but a day-old answer is what
``ollama pull`` would also have started from, and it keeps browsing off the network.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lexitui.backends.errors import clean_text
from lexitui.discovery.errors import ModelNotFoundError, RegistryError, RegistryUnavailableError
from lexitui.discovery.ollama_browse import LibraryBrowser
from lexitui.discovery.ollama_errors import BadRegistryAnswerError, InvalidOllamaNameError
from lexitui.discovery.ollama_fetch import RegistryFetcher, blob_url
from lexitui.discovery.ollama_manifest import (
    LICENSE_LAYER,
    ManifestError,
    parse_config,
    parse_manifest,
)
from lexitui.discovery.ollama_mapping import to_remote_model
from lexitui.discovery.ollama_names import (
    DEFAULT_HOST,
    DEFAULT_NAMESPACE,
    InvalidModelName,
    OllamaName,
    parse_ollama_name,
)
from lexitui.discovery.ollama_search import search_library, search_names
from lexitui.discovery.ollama_site import SiteFetcher
from lexitui.domain.backends import BackendModel
from lexitui.domain.discovery import ModelSearchQuery, ModelSearchResult, ModelVariant, RemoteModel
from lexitui.domain.enums import ModelCategory, ModelRegistryType
from lexitui.store.search_cache import DETAILS_TTL_S, RegistryCache, cache_key

if TYPE_CHECKING:
    import httpx

DEFAULT_BASE_URL = "https://registry.ollama.ai"
MANIFEST_TTL_S = DETAILS_TTL_S  # 24 h, like every registry's details
MANIFEST_KIND = "ollama_manifest"
NAMES_KIND = "ollama_names"
MAX_CONFIG_BYTES = 1 << 20  # real config blobs are ~500 bytes
MAX_LICENSE_BYTES = 64 << 10  # read the license only when it is small enough to be text
MAX_REMEMBERED_NAMES = 500
NAMES_KEY = cache_key(NAMES_KIND, "remembered")

SITE_LIMITATIONS = (
    "Search and the popular list are read from ollama.com's pages: there is no search API.",
    "If the site changes its pages, lexitui says so rather than guessing.",
    "A tag's size is the one the site shows; its file, quantization and checksum are read from "
    "the registry when the tag is pulled.",
    "Category, task, format and quantization filters do not apply to the library's list: it is "
    "filtered by name, size and author only.",
)

LIMITATIONS = (
    "The Ollama library has no search API: lexitui searches the names you have opened before "
    "and the models your Ollama has. Type a full name (llama3.2:3b) to open any other.",
    "The registry does not list a model's tags: each name:tag is one variant, and other sizes "
    "or quantizations need their own tag (see the model's page on ollama.com).",
    "No trending list, categories, descriptions or download counts: ollama.com shows those on "
    "web pages, not through an API, so lexitui shows none rather than made-up ones.",
    "Category and task filters do not apply to Ollama names.",
)


def _manifest_key(name: OllamaName) -> str:
    return cache_key(MANIFEST_KIND, name.key)


class OllamaLibraryRegistry:
    """Resolve Ollama names through the registry's distribution API; search a known-name list."""

    type = ModelRegistryType.OLLAMA_LIBRARY
    name = "Ollama library"

    def __init__(
        self,
        cache: RegistryCache,
        *,
        base_url: str = DEFAULT_BASE_URL,
        site_url: str | None = None,
        client: httpx.AsyncClient | None = None,
        known_names: Callable[[], Awaitable[list[str]]] | None = None,
        timeout: float = 30.0,
    ) -> None:
        """``base_url``: the registry; ``site_url``: the website whose library pages are read
        (None: none, search runs over known names)."""
        self._cache = cache
        self._site_client: httpx.AsyncClient | None = None
        self._browser = (
            LibraryBrowser(cache, site_url, self._site_fetcher) if site_url is not None else None
        )
        self.limitations: tuple[str, ...] = SITE_LIMITATIONS if site_url else LIMITATIONS
        self._base_url = base_url.rstrip("/")
        self._client = client
        self._owns_client = client is None
        self._timeout = timeout
        self._known_names = known_names
        self._names_lock = asyncio.Lock()
        # Names written for the default host are fetched from base_url, whatever it is (a
        # mirror, or a test's fake); the base URL's own host spelling is accepted as well.
        self._hosts = {DEFAULT_HOST, urlsplit(self._base_url).netloc.lower()}

    # -- plumbing ------------------------------------------------------------------------------

    def _fetcher(self) -> RegistryFetcher:
        if self._client is None:
            self._client = _new_client(self._base_url, self._timeout)
        return RegistryFetcher(self._base_url, self._client)

    def _site_fetcher(self) -> SiteFetcher:
        assert self._browser is not None
        if self._site_client is None:
            self._site_client = _new_client(self._browser.site_url, self._timeout)
        return SiteFetcher(self._browser.site_url, self._site_client)

    async def aclose(self) -> None:
        if self._owns_client and self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
        if self._site_client is not None:
            site, self._site_client = self._site_client, None
            await site.aclose()

    def parse_name(self, model_id: str) -> OllamaName:
        """Validate ``model_id``; names on other registries are refused with the reason."""
        try:
            name = parse_ollama_name(model_id.strip())
        except InvalidModelName as exc:
            raise InvalidOllamaNameError(model_id, str(exc)) from None
        if name.host not in self._hosts:
            hint = " (use the Hugging Face registry for it)" if "hf.co" in name.host else ""
            raise InvalidOllamaNameError(
                model_id,
                f"{name.host} is another registry: lexitui reads the Ollama library only{hint}",
            )
        return name

    # -- resolving a name ----------------------------------------------------------------------

    async def get_model(self, model_id: str) -> RemoteModel | None:
        """The model behind ``name[:tag]``, or None when there is no such model or tag.

        A name without a tag is the library's model with every tag (its page); a ``name:tag``
        is that tag's manifest. None as the ``ModelRegistry`` Protocol says; ``get_variants``
        raises ``ModelNotFoundError`` naming it instead, for callers that show why.
        """
        try:
            return await self._model(model_id)
        except ModelNotFoundError:
            return None

    async def get_variants(self, model_id: str) -> list[ModelVariant]:
        """A model's tags (a name without a tag), or the one variant a ``name:tag`` has."""
        return list((await self._model(model_id)).variants)

    async def _model(self, model_id: str) -> RemoteModel:
        name = self.parse_name(model_id)
        if self._browser is None or _has_tag(model_id) or name.host != DEFAULT_HOST:
            return await self.resolve(model_id)
        page = name.model if name.namespace == DEFAULT_NAMESPACE else name.repository
        model, _ = await self._browser.model(page)
        return model

    async def resolve(self, model_id: str) -> RemoteModel:
        """Manifest and config from the registry (or the cache) -> the model with its variant.

        A missing ``name:tag`` raises ``ModelNotFoundError`` naming it; a malformed name
        ``InvalidModelIdError`` before any request. When the registry cannot answer
        (``RegistryUnavailableError``: offline, 5xx, 429) a cached manifest of any age is
        served instead, as every registry here does; other answers (refused, malformed) raise
        a one-line ``RegistryError``.
        """
        name = self.parse_name(model_id)
        fresh = await self._cached_model(name, MANIFEST_TTL_S)
        if fresh is not None:
            return fresh
        try:
            payload = await self._resolve(name)
        except RegistryUnavailableError:
            stale = await self._cached_model(name, None)
            if stale is None:
                raise
            return stale
        model = self._from_payload(name, payload)
        await self._cache.put(_manifest_key(name), MANIFEST_KIND, json.dumps(payload))
        await self._remember(name)
        return model

    async def _resolve(self, name: OllamaName) -> dict[str, Any]:
        fetcher = self._fetcher()
        manifest_body = await fetcher.manifest(name)
        try:
            manifest = parse_manifest(manifest_body)
        except ManifestError as exc:
            raise BadRegistryAnswerError(f"{fetcher.host}: {name.short}: {exc}") from None
        config_body = await fetcher.blob(name, manifest.config.digest, MAX_CONFIG_BYTES)
        license_line = None
        licenses = manifest.of_type(LICENSE_LAYER)
        if licenses and licenses[0].size <= MAX_LICENSE_BYTES:
            text = await fetcher.blob(name, licenses[0].digest, MAX_LICENSE_BYTES)
            license_line = _first_line(text)
        return {
            "manifest": manifest_body.decode("utf-8", "replace"),
            "config": config_body.decode("utf-8", "replace"),
            "license": license_line,
        }

    def _from_payload(self, name: OllamaName, payload: dict[str, Any]) -> RemoteModel:
        """Validated on every read, the cache included: it is a file anyone could edit (P2)."""
        try:
            manifest = parse_manifest(payload["manifest"].encode())
            config = parse_config(payload["config"].encode())
            license_line = payload.get("license")
            return to_remote_model(
                name,
                manifest,
                config,
                url=functools.partial(blob_url, self._base_url),
                license_line=clean_text(license_line, 200) if license_line else None,
            )
        except ManifestError as exc:
            raise BadRegistryAnswerError(f"{name.short}: {exc}") from None

    # -- the known-name list -------------------------------------------------------------------

    async def _remember(self, name: OllamaName) -> None:
        async with self._names_lock:
            names = [n for n in await self._remembered() if n != name.full]
            names.insert(0, name.full)
            await self._cache.put(NAMES_KEY, NAMES_KIND, json.dumps(names[:MAX_REMEMBERED_NAMES]))

    async def _remembered(self) -> list[str]:
        hit = await self._cache.get(NAMES_KEY, max_age=None)
        names = hit.payload if hit is not None else None
        return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []

    async def _local_names(self) -> list[str]:
        if self._known_names is None:
            return []
        try:
            return list(await self._known_names())
        except Exception:  # Ollama not running is normal: search the remembered names alone
            return []

    async def _cached_model(self, name: OllamaName, max_age: float | None) -> RemoteModel | None:
        """The cached model, if one no older than ``max_age`` (None: any) passes validation.

        A damaged or older-format entry counts as absent, so it is fetched afresh and replaced.
        """
        hit = await self._cache.get(_manifest_key(name), max_age=max_age)
        if hit is None or not isinstance(hit.payload, dict):
            return None
        try:
            return self._from_payload(name, hit.payload)
        except (RegistryError, KeyError, TypeError, AttributeError):
            return None

    # -- search and the lists the registry does not have ---------------------------------------

    async def search(self, query: ModelSearchQuery) -> ModelSearchResult:
        """The library's search (its popular list for an empty query), filtered and paged here;
        with no website, a search over the names lexitui knows (``_search_known``)."""
        if self._browser is None:
            return await self._search_known(query)
        text = (query.query or "").strip()
        if _has_tag(text):  # a full name:tag is not searched for: it is opened
            found = await self.get_model(text)
            return ModelSearchResult(models=(found,) if found else (), total_count=int(bool(found)))
        wanted = max(query.skip, 0) + max(query.take, 0)
        models, more, age = await self._browser.search(text, wanted)
        return search_library(models, query, site_has_more=more, cached_age_seconds=age)

    async def _search_known(self, query: ModelSearchQuery) -> ModelSearchResult:
        """Substring search over the names lexitui knows, not over the Ollama library.

        The list is every name resolved here before plus the local Ollama's models;
        ``total_count`` counts matches in that list only. Names with a cached manifest come
        back with their details; the others (local models never opened here) by name only,
        and they fail any filter they cannot be checked against.
        """
        remembered = await self._remembered()
        local = await self._local_names()
        names: dict[str, OllamaName] = {}
        for text in (*remembered, *local):
            try:
                name = self.parse_name(text)
            except RegistryError:
                continue  # a local model from another registry, or a garbled entry
            names.setdefault(name.key, name)
        # Any age: search answers from what lexitui knows and never goes to the network.
        models = [await self._cached_model(n, None) or _name_only(n) for n in names.values()]
        return search_names(models, query)

    async def trending(self, limit: int = 20) -> list[RemoteModel]:
        """The library's popular list; empty without a website (the registry has none)."""
        if self._browser is None:
            return []
        return list((await self.search(ModelSearchQuery(take=limit))).models)

    async def by_category(self, category: ModelCategory, limit: int = 20) -> list[RemoteModel]:
        """Always empty: the registry has no categories (see ``limitations``)."""
        return []


def local_ollama_names(
    list_models: Callable[[], Awaitable[Sequence[BackendModel]]],
) -> Callable[[], Awaitable[list[str]]]:
    """``known_names`` from the local Ollama: ``local_ollama_names(backend.list_models)``."""

    async def names() -> list[str]:
        return [model.id for model in await list_models()]

    return names


def _name_only(name: OllamaName) -> RemoteModel:
    return RemoteModel(
        id=name.short,
        name=name.short.rpartition(":")[0],
        registry=ModelRegistryType.OLLAMA_LIBRARY,
        author=None if name.namespace == DEFAULT_NAMESPACE else name.namespace,
        description="Not opened yet: open it to read its size and quantization from the registry.",
        repository=f"{name.host}/{name.repository}",
        tags=(name.tag,),
    )


def _new_client(url: str, timeout: float) -> httpx.AsyncClient:
    import httpx  # first use only: ~60 ms the TUI's first paint does not need

    host = urlsplit(url).hostname or ""
    # A public registry may sit behind the user's HTTPS proxy, so the environment's proxy
    # settings count; a loopback one (a mirror, a test) must not go through it.
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        trust_env=host not in ("127.0.0.1", "localhost", "::1"),
        headers={"User-Agent": "lexitui"},
    )


def _has_tag(model_id: str) -> bool:
    """``llama3.2:3b`` has one; ``llama3.2`` and ``localhost:5000/x/y`` do not."""
    return ":" in model_id.strip().rpartition("/")[2]


def _first_line(text: bytes) -> str | None:
    for line in text.decode("utf-8", "replace").splitlines():
        if line.strip():
            return clean_text(line, 200)
    return None

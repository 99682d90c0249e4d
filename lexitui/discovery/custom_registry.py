"""A registry the user configured (``[registries.NAME]``), under the name they gave it.

It wraps the registry class that speaks its protocol — ``HuggingFaceRegistry`` for a Hugging
Face-compatible endpoint, ``OllamaLibraryRegistry`` for an Ollama-style one — and labels every
model it returns with its name, so a result's details and downloads come back to it. Its token
(from the variable ``token_env`` names) is the only one it ever sends: the Hub's ``HF_TOKEN`` is
not, nor does its token go to the Hub (K3).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime

from lexitui.discovery.errors import RegistryAuthError, RegistryError, RegistryUnavailableError
from lexitui.discovery.hf_settings import HubToken
from lexitui.discovery.huggingface import HuggingFaceRegistry
from lexitui.discovery.ollama_library import OllamaLibraryRegistry
from lexitui.discovery.registry import ModelRegistry
from lexitui.discovery.registry_settings import HUGGINGFACE, OLLAMA, RegistrySpec
from lexitui.domain.discovery import ModelSearchQuery, ModelSearchResult, ModelVariant, RemoteModel
from lexitui.domain.enums import ModelCategory, ModelRegistryType
from lexitui.store import Store
from lexitui.store.search_cache import CacheHit, RegistryCache, cache_key

REDACTED = "[token]"


class ScopedCache(RegistryCache):
    """The registry cache with every key prefixed by one registry's name and URL.

    An Ollama-style registry's cache keys name only ``name:tag``; without a scope its manifests
    would be served as the Ollama library's (and the other way round).
    """

    def __init__(self, store: Store, scope: str) -> None:
        super().__init__(store)
        self._scope = scope

    def _key(self, key: str) -> str:
        return cache_key("scoped", [self._scope, key])

    async def get(
        self, key: str, max_age: float | None, *, now: datetime | None = None
    ) -> CacheHit | None:
        return await super().get(self._key(key), max_age, now=now)

    async def put(self, key: str, kind: str, payload: str, *, now: datetime | None = None) -> None:
        await super().put(self._key(key), kind, payload, now=now)


class CustomRegistry:
    type = ModelRegistryType.CUSTOM

    def __init__(self, spec: RegistrySpec, inner: ModelRegistry) -> None:
        self.spec = spec
        self.inner = inner

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def limitations(self) -> tuple[str, ...]:
        return tuple(getattr(self.inner, "limitations", ()))

    def token(self) -> str | None:
        return self.spec.token()

    def redact(self, text: str) -> str:
        """``text`` with this registry's token, should a server have echoed it, blanked (K2)."""
        token = self.token()
        return text.replace(token, REDACTED) if token else text

    async def aclose(self) -> None:
        aclose = getattr(self.inner, "aclose", None)
        if aclose is not None:
            await aclose()

    # -- the ModelRegistry protocol -------------------------------------------------------------

    async def search(self, query: ModelSearchQuery) -> ModelSearchResult:
        with self._own_words():
            result = await self.inner.search(query)
        models = list(result.models)
        exact = await self._exact_name(query)
        if exact is not None and all(m.id != exact.id for m in models):
            models.insert(0, exact)
        return replace(result, models=tuple(self._label(m) for m in models))

    async def get_model(self, model_id: str) -> RemoteModel | None:
        with self._own_words():
            found = await self.inner.get_model(model_id)
        return self._label(found) if found is not None else None

    async def get_variants(self, model_id: str) -> list[ModelVariant]:
        with self._own_words():
            return await self.inner.get_variants(model_id)

    async def trending(self, limit: int = 20) -> list[RemoteModel]:
        return [self._label(m) for m in await self.inner.trending(limit)]

    async def by_category(self, category: ModelCategory, limit: int = 20) -> list[RemoteModel]:
        return [self._label(m) for m in await self.inner.by_category(category, limit)]

    # -- internals ------------------------------------------------------------------------------

    @contextmanager
    def _own_words(self) -> Iterator[None]:
        """A refused token is this registry's, from its variable: not the Hub's HF_TOKEN."""
        try:
            yield
        except RegistryAuthError:
            raise RegistryError(
                f"{self.name} refused the token in {self.spec.token_env}: set a valid one there"
            ) from None

    def _label(self, model: RemoteModel) -> RemoteModel:
        return replace(model, registry_name=self.name)

    async def _exact_name(self, query: ModelSearchQuery) -> RemoteModel | None:
        """An Ollama-style registry has no search: a query that is a whole ``name[:tag]`` is
        resolved, so typing a name finds it. Its being down is said (the search would not
        notice otherwise); a query that is no name, or a name it lacks, is simply no match."""
        text = (query.query or "").strip()
        if self.spec.kind != OLLAMA or not text or " " in text:
            return None
        try:
            return await self.inner.get_model(text)
        except RegistryUnavailableError:
            raise
        except RegistryError:
            return None


def build_custom_registry(spec: RegistrySpec, store: Store) -> CustomRegistry:
    if spec.kind == HUGGINGFACE:

        def token() -> HubToken | None:
            value = spec.token()
            return HubToken(value, spec.token_env or spec.name) if value else None

        hub = HuggingFaceRegistry(RegistryCache(store), endpoint=spec.url, token_source=token)
        return CustomRegistry(spec, hub)
    cache = ScopedCache(store, f"{spec.name} {spec.url}")
    return CustomRegistry(spec, OllamaLibraryRegistry(cache, base_url=spec.url))

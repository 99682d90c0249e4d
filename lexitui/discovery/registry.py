"""The roadmap's ``IModelRegistry``: what the Discover area asks of any model registry.

A ``Protocol`` so a registry (Hugging Face, the Ollama library, a custom one, a test double)
fulfils it by shape, without inheriting from anything. Errors are ``lexitui.discovery.errors``
types; a registry that answers from its cache because it is offline or rate-limited says so in
``ModelSearchResult.cached_age_seconds``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from lexitui.domain.discovery import ModelSearchQuery, ModelSearchResult, ModelVariant, RemoteModel
from lexitui.domain.enums import ModelCategory, ModelRegistryType


@runtime_checkable
class ModelRegistry(Protocol):
    @property
    def type(self) -> ModelRegistryType: ...

    @property
    def name(self) -> str: ...

    async def search(self, query: ModelSearchQuery) -> ModelSearchResult:
        """One page (``query.skip``/``query.take``) of the models matching every field."""
        ...

    async def get_model(self, model_id: str) -> RemoteModel | None:
        """Details of one model with its variants; None when the registry has no such model."""
        ...

    async def get_variants(self, model_id: str) -> list[ModelVariant]:
        """The downloadable files (or split sets) of a model, smallest first."""
        ...

    async def trending(self, limit: int = 20) -> list[RemoteModel]: ...

    async def by_category(self, category: ModelCategory, limit: int = 20) -> list[RemoteModel]: ...

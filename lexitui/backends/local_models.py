"""Installed models (the local registry) as the managed engine sees them.

The managed engine takes a model id; these adapters resolve it to a file through the registry,
and list installed models so the backends screen can offer them before anything is loaded.
"""

from __future__ import annotations

from pathlib import Path

from lexitui.backends.managed import ModelCatalog, ModelResolver
from lexitui.domain.backends import BackendModel
from lexitui.store.installed_models import ModelRegistry


def registry_resolver(registry: ModelRegistry) -> ModelResolver:
    async def resolve(model_id: str) -> Path:
        return Path((await registry.get(model_id)).path)  # ModelNotFound is a LookupError

    return resolve


def registry_catalog(registry: ModelRegistry) -> ModelCatalog:
    async def catalog() -> list[BackendModel]:
        return [
            BackendModel(
                id=m.id,
                name=m.name,
                size_bytes=m.size_bytes,
                format=m.format.value,
                loaded=False,
            )
            for m in await registry.list()
        ]

    return catalog

"""How the app's backend manager is put together: the built-in and configured backends, which
follow the runtime's loaded models, and the edition's checks on adding and starting them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lexitui.backends.manager import BackendManager
from lexitui.runtime.edition_checks import check_load_options

if TYPE_CHECKING:
    from lexitui.services.container import Services


def build_backend_manager(services: Services) -> BackendManager:
    async def resolve(model_id: str) -> Path:
        return Path((await services.registry.get(model_id)).path)

    backends = BackendManager(
        services.paths,
        services.bus,
        resolve_model=resolve,
        entitlements=lambda: services.entitlements,
        admit_start=lambda options: check_load_options(services.entitlements, options),
    )
    backends.follow_runtime(services.runtime.loaded_models)
    return backends

